#!/usr/bin/env bash
# Imports a generated ThriveCart orders export of ROWS rows (default 1,000,000:
# 500,000 orders of a product and an upsell) into a fresh store with a release
# build, then imports it again (every event already present), and prints the
# rows per second and the peak resident memory of each run.
#   bench/import/run.sh [ROWS] [BUILD_DIR]
set -euo pipefail

rows=${1:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath -m "${2:-$root/build-release}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ ! -x $build/cartwire ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCARTWIRE_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target cartwire cartwire_thrivecart >/dev/null

awk -v rows="$rows" 'BEGIN {
  print "Order ID,Invoice ID,Order Date,Customer Email,Customer First Name,Customer Last Name,Item Type,Item ID,Item Name,Amount,Currency,Mode"
  for (i = 0; i < rows; i++) {
    order = 1000000 + int(i / 2)
    if (i % 2 == 0) item = "product,12,\"Course, complete\",49.95"; else item = "upsell,13,Coaching,99.00"
    printf "%d,%09d,2026-01-15 10:00:00,buyer%d@example.com,Ann,Lee,%s,USD,live\n", order, order, order, item
  }
}' >"$work/orders.csv"

cat >"$work/hub.yaml" <<YAML
storage:
  path: $work/hub.db
plugins:
  dir: $build/lib/plugins
sources:
  thrivecart:
    connector: thrivecart
    settings: {secret: bench-secret, account: acme}
YAML

echo "file: $rows rows, $(du -h "$work/orders.csv" | cut -f1)"
for run in "first import (all new)" "second import (all present)"; do
  started=$(date +%s.%N)
  # The import's peak resident memory, from the kernel's account of the finished child (ru_maxrss, KiB).
  peak=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
    "$work/summary" "$build/cartwire" import thrivecart "$work/orders.csv" --config "$work/hub.yaml")
  ended=$(date +%s.%N)
  echo "$run: $(tail -1 "$work/summary")"
  awk -v r="$rows" -v a="$started" -v b="$ended" -v kib="$peak" \
    'BEGIN { printf "  %.1f s wall, %.0f rows/s, peak RSS %.1f MB\n", b - a, r / (b - a), kib / 1024 }'
done
