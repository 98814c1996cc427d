#!/usr/bin/env bash
# Ensures PostgreSQL and Redis run on 127.0.0.1 for development, tests and CI.
#
# Idempotent: installs the Debian packages only when binaries are missing, starts only what is not
# already answering, and creates the `leash` role and databases only when absent. Runs without
# systemd (containers, CI), so PostgreSQL is started with pg_ctlcluster and Redis as a daemon whose
# pid/log files live in $LEASH_SERVICES_DIR.
#
# Environment:
#   LEASH_SKIP_SERVICES=1        do nothing (services are provided elsewhere, e.g. CI service containers)
#   LEASH_PG_VERSION             PostgreSQL major version of the Debian cluster (default 15)
#   LEASH_SERVICES_DIR           Redis pidfile/logfile directory (default <repo>/.leash/services)
#   LEASH_SERVICES_TIMEOUT       seconds to wait for each service to become ready (default 30)
set -euo pipefail

if [[ "${LEASH_SKIP_SERVICES:-}" == "1" ]]; then
  echo "services: skipped (LEASH_SKIP_SERVICES=1)"
  exit 0
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_VERSION="${LEASH_PG_VERSION:-15}"
PG_CLUSTER="main"
PG_HOST="127.0.0.1"
PG_PORT=5432
REDIS_HOST="127.0.0.1"
REDIS_PORT=6379
RUN_DIR="${LEASH_SERVICES_DIR:-$ROOT/.leash/services}"
TIMEOUT="${LEASH_SERVICES_TIMEOUT:-30}"
DB_ROLE="leash"
DB_PASSWORD="leash"
DATABASES=(leash leash_test)

log() { echo "services: $*"; }
die() { echo "services: error: $*" >&2; exit 1; }

# Root can do everything directly; a developer account goes through sudo for the few privileged steps.
if [[ "$(id -u)" -eq 0 ]]; then
  AS_ROOT=()
  AS_POSTGRES=(runuser -u postgres --)
elif command -v sudo >/dev/null 2>&1; then
  AS_ROOT=(sudo)
  AS_POSTGRES=(sudo -u postgres)
else
  AS_ROOT=()
  AS_POSTGRES=()
fi

# --- install -------------------------------------------------------------------------------------
missing=()
for bin in pg_ctlcluster pg_isready psql redis-server redis-cli; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
[[ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ]] || missing+=("postgres-$PG_VERSION")
if (( ${#missing[@]} > 0 )); then
  log "missing: ${missing[*]} -> installing postgresql redis-server"
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install PostgreSQL $PG_VERSION and Redis yourself"
  "${AS_ROOT[@]}" apt-get update
  "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql redis-server
fi
# Prometheus and promtool for test/e2e/prometheus.test.ts (checks deploy/prometheus/ and the Grafana
# dashboard against a live gateway). Installed only; never started as a service here (the test runs
# its own instance on a free port with a temp TSDB).
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    log "missing: prometheus/promtool -> installing prometheus"
    "${AS_ROOT[@]}" apt-get update || true
    # --no-install-recommends: no node/alertmanager exporters. Only the binaries are wanted: under
    # systemd the package starts prometheus.service on :9090, so it is stopped and disabled again
    # (it did not exist before this install, so nothing of the user's is touched).
    if "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; then
      if [[ -d /run/systemd/system ]]; then
        "${AS_ROOT[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
      fi
    else
      log "warning: could not install prometheus; test/e2e/prometheus.test.ts will be skipped"
    fi
  else
    log "warning: apt-get not found; install prometheus yourself or test/e2e/prometheus.test.ts is skipped"
  fi
fi

# wait_for <what> <command...>: polls a readiness probe, bounded by $TIMEOUT seconds.
wait_for() {
  local what="$1"; shift
  local deadline=$(( SECONDS + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || die "$what not ready after ${TIMEOUT}s"
    sleep 0.2
  done
}

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
redis_ready() { [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]; }

# --- PostgreSQL ----------------------------------------------------------------------------------
if pg_ready; then
  log "postgresql already accepting connections on $PG_HOST:$PG_PORT"
else
  # A package installed with `policy-rc.d` denying service starts (Docker images) may leave no
  # cluster behind; create the default one so the steps below have something to start.
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {f=1} END {exit !f}'; then
    log "creating cluster $PG_VERSION/$PG_CLUSTER"
    "${AS_ROOT[@]}" pg_createcluster --port "$PG_PORT" "$PG_VERSION" "$PG_CLUSTER"
  fi
  if "${AS_ROOT[@]}" pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1; then
    log "postgresql $PG_VERSION/$PG_CLUSTER running, waiting for $PG_HOST:$PG_PORT"
  else
    log "starting postgresql $PG_VERSION/$PG_CLUSTER on $PG_HOST:$PG_PORT"
    # listen_addresses is forced here rather than in postgresql.conf so the system config stays untouched.
    "${AS_ROOT[@]}" pg_ctlcluster -o "-c listen_addresses=$PG_HOST" "$PG_VERSION" "$PG_CLUSTER" start
  fi
  wait_for "postgresql" pg_ready
fi

# Runs SQL as the postgres superuser over the local socket (peer auth), so no password is needed.
psql_admin() { "${AS_POSTGRES[@]}" psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"; }

# ALTER on every run keeps the password known even if someone changed it by hand. CREATEDB: the
# e2e tests give each gateway they start a database of its own.
psql_admin -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE') THEN
    CREATE ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  ELSE
    ALTER ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;"
for db in "${DATABASES[@]}"; do
  # CREATE DATABASE cannot run inside a DO block, hence the separate existence check.
  if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]]; then
    log "creating database $db"
    psql_admin -c "CREATE DATABASE $db OWNER $DB_ROLE"
  fi
done
# Prove the TCP + password path the sidecar and tests use, not just the superuser socket.
PGPASSWORD="$DB_PASSWORD" psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$DB_ROLE" -d leash_test -tAc "SELECT 1" >/dev/null \
  || die "cannot log in as $DB_ROLE over TCP (check pg_hba.conf)"

# --- Redis ---------------------------------------------------------------------------------------
if redis_ready; then
  log "redis already answering on $REDIS_HOST:$REDIS_PORT"
else
  mkdir -p "$RUN_DIR"
  log "starting redis on $REDIS_HOST:$REDIS_PORT (pid/log in $RUN_DIR)"
  # Persistence is off: Redis only holds caches and rate counters that rebuild themselves.
  redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --daemonize yes \
    --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log" --dir "$RUN_DIR" \
    --save "" --appendonly no
  wait_for "redis" redis_ready
fi

echo "LEASH_TEST_DATABASE_URL=postgres://$DB_ROLE:$DB_PASSWORD@$PG_HOST:$PG_PORT/leash_test"
echo "LEASH_TEST_REDIS_URL=redis://$REDIS_HOST:$REDIS_PORT/0"
