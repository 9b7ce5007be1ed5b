#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests, connector tests, end-to-end
# tests against the real binary, the out-of-tree SDK build, and a bounded run
# of each libFuzzer target (fuzz/) from its seed corpus. The build uses
# clang with AddressSanitizer and UndefinedBehaviorSanitizer, as a unity build
# (it compiles several times faster on a small machine).
#   ./scripts/test.sh [ctest options, e.g. -R Delivery]
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh --test
build=build-test
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DCARTWIRE_SANITIZE=ON -DCARTWIRE_BUILD_TESTS=ON -DCARTWIRE_FUZZ=ON -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16
cmake --build "$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j2 "$@"
