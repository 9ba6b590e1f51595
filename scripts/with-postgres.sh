#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL started (scripts/postgres.sh) and its variables exported:
# scripts/with-postgres.sh swift test --filter StoreBackendTests
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/processes.sh
source scripts/postgres.sh
start_postgres
"$@"
