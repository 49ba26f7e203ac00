# The two commands of the README. Each sets everything up (a .venv in this folder) first.
.PHONY: main test setup benchmark

setup:
	@bash scripts/setup-env.sh

main: setup
	.venv/bin/python examples/main_job.py

# tests/cluster runs on a local-cluster master (separate executor JVMs) and tests/connect on
# a local Spark Connect server, each in a process of its own: one SparkContext per process,
# and the rest of the suite holds a local one.
test: setup
	.venv/bin/python -m pytest -q --ignore=tests/cluster --ignore=tests/connect
	.venv/bin/python -m pytest -q tests/cluster
	.venv/bin/python -m pytest -q tests/connect

benchmark: setup
	.venv/bin/python benchmarks/run.py
