#!/usr/bin/env bash
# Runs every test: format lint, the build with warnings as errors, the conformance corpus through the
# real command line, and the Swift Testing suites (unit, in-process, command-line and bounded fuzzing).
# Needs only the Swift toolchain; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift format lint --strict"
swift format lint --strict --recursive Sources Tests Package.swift Benchmarks/Sources Benchmarks/Benchmarks Benchmarks/Package.swift

echo "== build"
swift build --build-tests

echo "== conformance corpus (gatehouse policy conformance)"
.build/debug/gatehouse policy conformance Tests/Conformance/*.json

echo "== swift test"
swift test --disable-xctest
