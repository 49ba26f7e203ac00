#!/usr/bin/env bash
# EMR-style bootstrap action: install distml (and its dependencies) on every node, so that
# spark-submit jobs and notebooks import it with nothing else to ship.
#   aws emr create-cluster ... --bootstrap-actions Path=s3://BUCKET/emr_bootstrap.sh,Args=[s3://BUCKET/distml-0.1.0-py3-none-any.whl]
# The one argument is where the wheel is (built with `pip wheel . --no-deps -w dist/`).
set -euo pipefail
wheel_uri="${1:?usage: emr_bootstrap.sh S3_OR_HTTP_URI_OF_THE_DISTML_WHEEL}"
python="${DISTML_PYTHON:-python3}"
workdir="$(mktemp -d)"
case "$wheel_uri" in
  s3://*) aws s3 cp "$wheel_uri" "$workdir/" ;;
  *) cp "$wheel_uri" "$workdir/" ;;
esac
sudo "$python" -m pip install --quiet "$workdir"/distml-*.whl
"$python" -c "import distml; print('distml', distml.__version__, 'installed')"
