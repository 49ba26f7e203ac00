"""The GPU example script runs end to end here, on the CPU (no GPU on this machine).

It starts its own local[2] session in a child process, as a user would run it, trains both
models with backend="mxnet" (MXNet on mx.cpu(), since Spark assigns no GPU), saves and loads
the MLP, and exits 1 itself if held-out accuracy is below 0.9 or the loaded weights differ.
"""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.spark

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "gpu_training.py")


def test_gpu_example_runs_on_the_cpu(tmp_path):
    out = subprocess.run([sys.executable, EXAMPLE, "--master", "local[2]", "--backend",
                          "mxnet", "--epochs", "40", "--output", str(tmp_path / "mlp")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    assert "ranks on mxnet:cpu(0), mxnet:cpu(0)" in out.stdout
    assert "Spark assigned no GPU to this task" in out.stderr
    assert os.path.isfile(tmp_path / "mlp" / "data" / "weights.npy")
