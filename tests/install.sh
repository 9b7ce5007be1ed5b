#!/usr/bin/env bash
# Installs the hub from this build into a temporary prefix, as `cmake --install`
# does on a server, and checks that the installed hub finds what came with it:
# its modules, its connectors (which check names when plugins.dir is unset) and
# its web console (served from the installed copy, not the build tree).
# Usage: install.sh <build dir>
set -euo pipefail
build=$1
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
prefix=$work/prefix
bin=$prefix/bin/cartwire
plugins=$prefix/lib/cartwire/plugins
web=$prefix/share/cartwire/web
for file in "$bin" "$prefix/lib/cartwire/cartwire-https.so" "$prefix/lib/cartwire/cartwire-postgresql.so" \
  "$web/index.html" "$plugins"/{thrivecart,samcart,json,notifyurl,encharge,ghl,thinkific}.so; do
  test -f "$file" || { echo "cmake --install did not install $file"; exit 1; }
done

# A server's layout: hub.yaml in its own folder, no plugins.dir yet.
export CARTWIRE_ADMIN_TOKEN=install-test-admin-token
mkdir -p "$work/etc"
cat > "$work/etc/hub.yaml" <<YAML
server: {listen: 127.0.0.1:0}
storage: {path: $work/state/cartwire.db}
admin: {listen: 127.0.0.1:0, token: "\${CARTWIRE_ADMIN_TOKEN}"}
sources:
  thrivecart: {connector: thrivecart, settings: {secret: install-secret-word}}
YAML
if out=$("$bin" check --config "$work/etc/hub.yaml" 2>&1); then
  echo "check passed without connectors:"; echo "$out"; exit 1
fi
grep -qF "point it at the connectors that came with this hub, e.g. plugins: {dir: $plugins}" <<<"$out" ||
  { echo "check did not name the installed connectors:"; echo "$out"; exit 1; }
printf 'plugins: {dir: %s}\n' "$plugins" >> "$work/etc/hub.yaml"
out=$("$bin" check --config "$work/etc/hub.yaml" 2>&1) || { echo "$out"; exit 1; }
grep -q "OK: 1 source(s), 0 integration(s), 0 rule(s), 7 connector(s) loaded" <<<"$out" || { echo "$out"; exit 1; }

# The console comes from the installed copy: mark it, then ask for it.
echo '<!-- the installed copy -->' >> "$web/index.html"
"$bin" serve --config "$work/etc/hub.yaml" > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "admin API and console on" "$work/serve.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
console=$(sed -n 's/.*admin API and console on \(http:[^ ]*\).*/\1/p' "$work/serve.log" | head -1)
[[ -n $console ]] || { echo "no console address in the log:"; cat "$work/serve.log"; exit 1; }
page=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/").read().decode())' "$console")
grep -q "the installed copy" <<<"$page" || { echo "the console at $console is not the installed copy"; exit 1; }
kill "$pid"
wait "$pid" || true
pid=
echo "installed hub: modules, 7 connectors and the console found"
