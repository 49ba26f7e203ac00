"""A Spark task imports only its program's modules: the package chain above a program's
module must not pull in every estimator (distml.lazy)."""
import subprocess
import sys


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return set(out.split())


def test_an_engine_module_imports_no_estimator():
    loaded = _imported_after("import distml.engine.jobs")
    assert "distml.algorithms.classification.logistic_regression" not in loaded
    assert "distml.algorithms.tree.ensemble" not in loaded
    assert "distml.pipeline.tuning" not in loaded
    assert "scipy.stats" not in loaded


def test_every_public_name_resolves_and_star_import_matches_all():
    loaded = _imported_after("import distml; [getattr(distml, n) for n in distml.__all__]")
    assert "distml.algorithms.tree.ensemble" in loaded
    namespace = {}
    exec("from distml import *", namespace)
    import distml
    assert set(distml.__all__) <= set(namespace)
    assert distml.feature.VectorAssembler is distml.VectorAssembler
