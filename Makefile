# The two commands of the README. Each sets everything up (a .venv in this folder) first.
.PHONY: main test setup benchmark

setup:
	@bash scripts/setup-env.sh

main: setup
	.venv/bin/python examples/main_job.py

test: setup
	.venv/bin/python -m pytest -q

benchmark: setup
	.venv/bin/python benchmarks/run.py
