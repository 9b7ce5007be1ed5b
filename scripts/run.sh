#!/usr/bin/env bash
# Sets up, builds (release) and runs the hub on config/hub.example.yaml (SQLite).
#   ./scripts/run.sh [extra cartwire serve options]
# Webhooks: POST http://127.0.0.1:8080/hooks/thrivecart. Other addresses:
#   CARTWIRE_LISTEN=127.0.0.1:9080 CARTWIRE_ADMIN_LISTEN=127.0.0.1:9081 ./scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCARTWIRE_BUILD_TESTS=OFF -DCMAKE_UNITY_BUILD=ON
cmake --build build
# The web console needs an admin token; one is kept in var/admin-token.
if [[ -z ${CARTWIRE_ADMIN_TOKEN:-} ]]; then
  mkdir -p var
  [[ -s var/admin-token ]] || (umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' > var/admin-token)
  CARTWIRE_ADMIN_TOKEN=$(cat var/admin-token)
  export CARTWIRE_ADMIN_TOKEN
  echo "Web console: http://${CARTWIRE_ADMIN_LISTEN:-127.0.0.1:8081} (log in with the token in var/admin-token)"
fi
exec ./build/cartwire serve --config config/hub.example.yaml "$@"
