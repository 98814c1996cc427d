#!/usr/bin/env bash
# The whole test suite (what `npm test` and CI run): installs and builds what is missing, starts
# PostgreSQL and Redis on 127.0.0.1 when they are not running, then runs every tier.
# Tiers one by one: npm run typecheck | test:aspect | test:node (see test/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh --services

export LEASH_TEST_DATABASE_URL="${LEASH_TEST_DATABASE_URL:-postgres://leash:leash@127.0.0.1:5432/leash_test}"
export LEASH_TEST_REDIS_URL="${LEASH_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

echo "== typecheck"
npm run --silent typecheck
echo "== as-pect specs (AssemblyScript logic)"
npm run --silent test:aspect
echo "== unit, filter (built .wasm in the fake host), integration and e2e tests"
npm run --silent test:node
