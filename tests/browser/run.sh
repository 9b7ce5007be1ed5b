#!/usr/bin/env bash
# Runs the browser tests of the web console: installs playwright-core from the
# committed lock file into the build tree (again only when the lock changes,
# so later runs work offline), then node's test runner.
#   run.sh <build dir> <cartwire binary> <plugin dir> <fakes dir> <crashing test connector> <store_faults preload>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
npm_dir=$build/tests/browser-npm
mkdir -p "$npm_dir"
if ! cmp -s "$here/package-lock.json" "$npm_dir/package-lock.json" || [[ ! -d $npm_dir/node_modules ]]; then
  cp "$here/package.json" "$here/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium ]]; then
  echo "no chromium at $chromium: run ./scripts/install-deps.sh --test (or set CHROMIUM)" >&2
  exit 1
fi
export CHROMIUM=$chromium
export CARTWIRE_NODE_MODULES=$npm_dir/node_modules
export CARTWIRE_BIN=$2 CARTWIRE_PLUGIN_DIR=$3 CARTWIRE_FAKES_DIR=$4 CARTWIRE_CRASHES_PLUGIN=$5 CARTWIRE_STORE_FAULTS=$6
export CARTWIRE_ARTIFACTS=$build/artifacts/browser
exec node --test --test-reporter=spec "$here/console.test.mjs"
