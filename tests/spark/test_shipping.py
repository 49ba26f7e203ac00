"""Getting distml onto a cluster: the package builds as a pure-Python wheel, and a
spark-submit job whose interpreter does not have distml imports it from ``--py-files`` alone,
on the driver and on the executors."""
import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

JOB = textwrap.dedent("""
    import json
    import numpy as np
    from pyspark.sql import SparkSession
    from pyspark.ml.linalg import Vectors
    import distml
    from distml import LogisticRegression

    spark = SparkSession.builder.getOrCreate()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    df = spark.createDataFrame([(Vectors.dense(r), float(r[0] > 0)) for r in X],
                               ["features", "label"]).repartition(2)
    model = LogisticRegression(maxIter=20).fit(df)   # a barrier fit: distml on the executors
    def where(_):
        import distml
        yield distml.__file__
    executors = sorted(set(df.rdd.mapPartitions(where).collect()))
    print(json.dumps({"driver": distml.__file__, "executors": executors,
                      "accuracy": float(model.summary.accuracy)}))
""")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w",
                    str(out)], check=True, timeout=600)
    built = [f for f in os.listdir(out) if f.endswith(".whl")]
    assert built and built[0].endswith("-py3-none-any.whl")  # pure Python
    return out / built[0]


def test_spark_submit_imports_distml_from_py_files_only(wheel, tmp_path):
    # An interpreter that sees distml's dependencies but not distml: a bare venv whose .pth
    # names this environment's site-packages (whose own .pth files, the editable install's
    # among them, a .pth line does not run).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")],
                   check=True)
    site = subprocess.run([str(tmp_path / "env" / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(site, "deps.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    python = str(tmp_path / "env" / "bin" / "python")
    probe = subprocess.run([python, "-c", "import distml"], capture_output=True, text=True,
                           cwd=str(tmp_path))
    assert probe.returncode != 0  # distml is not installed for this interpreter
    (tmp_path / "job.py").write_text(JOB)
    # pyspark puts only .zip, .egg and .jar py-files on the executors' path (a .whl reaches
    # the driver alone, measured): the wheel is a zip, shipped under that name.
    shipped = tmp_path / "distml.zip"
    shipped.write_bytes(wheel.read_bytes())
    import pyspark
    submit = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-submit")
    result = subprocess.run(
        [submit, "--master", "local[2]", "--conf", "spark.ui.enabled=false",
         "--py-files", str(shipped), str(tmp_path / "job.py")],
        capture_output=True, text=True, timeout=600, cwd=str(tmp_path),
        env={**os.environ, "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python})
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    import json
    report = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])
    assert "distml.zip" in report["driver"] and ROOT not in report["driver"]
    assert report["executors"] and all("distml.zip" in path for path in report["executors"])
    assert report["accuracy"] > 0.9
