#!/usr/bin/env bash
# Spark GPU discovery script: prints the GPUs of this node as Spark's resource JSON, e.g.
#   {"name": "gpu", "addresses": ["0", "1"]}
# Pass it as spark.executor.resource.gpu.discoveryScript (and spark.driver.resource.gpu.
# discoveryScript for a driver with GPUs). It needs nvidia-smi, which NVIDIA's driver installs.
set -euo pipefail
addresses=$(nvidia-smi --query-gpu=index --format=csv,noheader | sed 's/^ *//; s/ *$//' |
  awk 'NF { printf "%s\"%s\"", sep, $0; sep = ", " }')
echo "{\"name\": \"gpu\", \"addresses\": [${addresses}]}"
