#!/usr/bin/env bash
# Creates (or reuses) .venv with distml and everything its tests need. Idempotent: the install
# runs again only when pyproject.toml changes. Fails early, in one line, without Java 17+.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null 2>&1; then
  echo "distml: Java 17 or newer is required by Spark and was not found; install it (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17) and retry." >&2
  exit 1
fi
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
if [[ -z "$java_major" || "$java_major" -lt 17 ]]; then
  echo "distml: Java 17 or newer is required by Spark; found '$(java -version 2>&1 | head -n 1)'. Install Java 17+ (apt-get install -y openjdk-17-jre-headless) and retry." >&2
  exit 1
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.distml-installed
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat $stamp)" != "$want" ]]; then
  echo "distml: installing into .venv (log: .venv/install.log) ..." >&2
  # The test environment carries the mxnet extra so the MXNet path is tested too, the
  # benchmarks' (XGBoost's CPU build, for the tree ensembles' benchmark) and Spark Connect's.
  if ! .venv/bin/python -m pip install -e ".[test,mxnet,bench,connect]" > .venv/install.log 2>&1; then
    tail -n 40 .venv/install.log >&2
    echo "distml: installing the environment failed; the log is .venv/install.log" >&2
    exit 1
  fi
  echo "$want" > $stamp
fi
