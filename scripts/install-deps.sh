#!/usr/bin/env bash
# Installs every Debian package Cartwire needs to build, run and test.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libpoco-dev libyaml-cpp-dev nlohmann-json3-dev
  libboost-dev libboost-filesystem-dev
  libsqlite3-dev libpq-dev libssl-dev libcsv-dev libjemalloc-dev
  googletest libgtest-dev libgmock-dev
)

if [[ ${1:-} == --test ]]; then
  packages+=(clang libclang-rt-14-dev curl openssl python3 python3-jsonschema python3-yaml chromium postgresql)
fi
if [[ ${1:-} == --bench ]]; then
  packages+=(libbenchmark-dev wrk curl python3 nodejs)
fi

# The web console is built with npm: Debian's nodejs and npm, unless a Node.js with npm is there already.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
