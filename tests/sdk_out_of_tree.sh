#!/usr/bin/env bash
# Installs the SDK from this build into a temporary prefix, builds the template
# connector it installs against it out of tree, runs the template's tests and
# checks that the hub loads it; builds the example connector of every trigger
# kind the same way and runs it in the hub against a fake of its service.
# Usage: sdk_out_of_tree.sh <build dir> <source dir> <cartwire binary> <the build's connectors dir>
set -euo pipefail
build=$1 src=$2 bin=$3 connectors=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build/sdk" --prefix "$work/prefix" >/dev/null

# The package carries the SDK's version: a connector asks for the SDK whose
# features it uses; 0.1, the package's number before 1.6.0, is still taken.
sdk_version=$(sed -n 's/^#define CARTWIRE_SDK_VERSION "\(.*\)"$/\1/p' "$work/prefix/include/cartwire/sdk/connector.hpp")
next_minor=${sdk_version%%.*}.$(($(cut -d. -f2 <<<"$sdk_version") + 1))
finds() {
  mkdir -p "$work/find-$1"
  printf 'cmake_minimum_required(VERSION 3.25)\nproject(f NONE)\nfind_package(CartwireSDK %s REQUIRED)\n' "$1" \
    >"$work/find-$1/CMakeLists.txt"
  cmake -S "$work/find-$1" -B "$work/find-$1/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null 2>&1
}
for wanted in "$sdk_version" 1.0 0.1; do
  finds "$wanted" || { echo "find_package(CartwireSDK $wanted) refused SDK $sdk_version"; exit 1; }
done
for wanted in "$next_minor" 2.0; do
  ! finds "$wanted" || { echo "find_package(CartwireSDK $wanted) took SDK $sdk_version"; exit 1; }
done

# The template, as installed with the SDK, builds and passes its tests (the test kit's).
template="$work/prefix/share/cartwire/sdk/examples/hello"
test -f "$template/hello.cpp" || { echo "the SDK did not install the template connector"; exit 1; }
cmake -S "$template" -B "$work/hello" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" >/dev/null
cmake --build "$work/hello" >/dev/null
test -f "$work/hello/hello.so" || { echo "hello.so was not built"; exit 1; }
test -x "$work/hello/hello_test" || { echo "the template's tests were not built"; exit 1; }
ctest --test-dir "$work/hello" --output-on-failure >/dev/null || { ctest --test-dir "$work/hello" --output-on-failure; exit 1; }

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

# The template sends its token only over https:// (or plain http:// to this
# machine, where a test server runs), as the docs ask of every connector.
sed 's#url: "http://127.0.0.1:1/greet"#url: "http://example.com/greet"#' "$work/hub.yaml" >"$work/plain.yaml"
if out=$("$bin" check --config "$work/plain.yaml" 2>&1); then echo "$out"; exit 1; fi
grep -q "setting 'url' must start with https://" <<<"$out" || { echo "$out"; exit 1; }
echo "the template refuses to send its token over plain HTTP"

# A manifest key the hub does not read is named by `check`, with the key it
# most likely misspells: a misspelt "secret" leaves the token unmasked.
cp -r "$template" "$work/typo-src"
sed -i 's/"secret": true/"secrte": true/' "$work/typo-src/manifest.json"
cmake -S "$work/typo-src" -B "$work/typo" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" >/dev/null
cmake --build "$work/typo" --target hello >/dev/null
sed "s#dir: $work/hello#dir: $work/typo#" "$work/hub.yaml" >"$work/typo.yaml"
out=$("$bin" check --config "$work/typo.yaml" 2>&1) || { echo "$out"; exit 1; }
grep -qF "$work/typo/hello.so: warning: connector hello: manifest.settings[1] has \"secrte\", which this hub does not read and ignores (did you mean secret?" <<<"$out" \
  || { echo "$out"; exit 1; }
echo "a misspelt manifest key is named"

# A connector that checks its webhooks' signatures links Cartwire::signature
# (HMAC-SHA256 from OpenSSL), which the installed package provides.
mkdir -p "$work/sig"
cat >"$work/sig/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(sig LANGUAGES CXX)
find_package(CartwireSDK 1.8 REQUIRED)
add_executable(sig sig.cpp)
target_link_libraries(sig PRIVATE Cartwire::signature)
CMAKE
cat >"$work/sig/sig.cpp" <<'CPP'
#include <cartwire/sdk/signature.hpp>
int main() {
  namespace sdk = cartwire::sdk;
  std::string expected = "sha256=" + sdk::to_hex(sdk::hmac_sha256("Jefe", "what do ya want for nothing?"));
  return sdk::same_secret(expected, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") ? 0 : 1;
}
CPP
cmake -S "$work/sig" -B "$work/sig/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" >/dev/null
cmake --build "$work/sig/build" >/dev/null
"$work/sig/build/sig" || { echo "the installed SDK's HMAC-SHA256 gave another MAC"; exit 1; }
echo "Cartwire::signature links out of tree"

# The example of every trigger kind, as installed, builds out of tree and works
# in the hub, beside the ThriveCart connector whose orders its action takes:
# sdk_example.py drives it against the fake Acme API.
example="$work/prefix/share/cartwire/sdk/examples/acme"
test -f "$example/acme.cpp" || { echo "the SDK did not install the example connector"; exit 1; }
cmake -S "$example" -B "$work/acme" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" >/dev/null
out=$(cmake --build "$work/acme" 2>&1) || { echo "$out"; exit 1; }
mkdir "$work/acme-plugins"
ln -s "$work/acme/acme.so" "$connectors/thrivecart.so" "$work/acme-plugins/"
python3 "$src/tests/sdk_example.py" "$bin" "$work/acme-plugins" "$work"
echo "the example connector works in the hub"
