#!/bin/sh
# Profile deepaas-lite's predict path: py-spy samples the server while wrk loads it.
# Usage: benchmarks/profile_predict.sh [VARIANT] [extra bench.py options]
#   VARIANT: svc.lite (default), noop.lite, cpu.lite-w2, batch.lite-batch, ...
# The raw collapsed stacks stay in benchmarks/.work/profile/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
variant=${1:-svc.lite}
[ $# -gt 0 ] && shift
exec python3 "$here/bench.py" --profile "$variant" --duration 10 "$@"
