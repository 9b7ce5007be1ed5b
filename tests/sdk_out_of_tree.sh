#!/usr/bin/env bash
# Installs the SDK from this build into a temporary prefix, builds the example
# connector against it out of tree, and checks that the hub loads it.
# Usage: sdk_out_of_tree.sh <build dir> <source dir> <cartwire binary>
set -euo pipefail
build=$1 src=$2 bin=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build/sdk" --prefix "$work/prefix" >/dev/null
cmake -S "$src/sdk/examples/hello" -B "$work/hello" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" >/dev/null
cmake --build "$work/hello" >/dev/null
test -f "$work/hello/hello.so" || { echo "hello.so was not built"; exit 1; }

cat > "$work/hub.yaml" <<YAML
plugins:
  dir: $work/hello
storage:
  path: $work/hub.db
integrations:
  greeter:
    connector: hello
    settings: {url: "http://127.0.0.1:1/greet", token: t0ken-value}
rules:
  - on: order.completed
    do: greeter.greet
    with: {greeting: Welcome}
YAML
out=$("$bin" check --config "$work/hub.yaml" 2>&1) || { echo "$out"; exit 1; }
echo "$out"
grep -q "OK: 0 source(s), 1 integration(s), 1 rule(s), 1 connector(s) loaded" <<<"$out"
echo "out-of-tree connector built and loaded"
