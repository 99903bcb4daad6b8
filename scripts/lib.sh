# Shared helpers for the project's scripts (sourced, not run).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '\033[1m%s\033[0m\n' "$*"; }

# npm packages: install on a fresh clone, or when the lock file changed since the last install.
ensure_node_modules() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# PostgreSQL: the local server from DATABASE_URL's host; start the machine's cluster if it is down.
ensure_postgres() {
  local url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/troupe}
  local hostport=${url#*@}; hostport=${hostport%%/*}
  local host=${hostport%%:*} port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=5432
  if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then return 0; fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h "$host" -p "$port" && return 0; sleep 1; done
  fi
  echo "PostgreSQL is not answering on $host:$port (set DATABASE_URL)" >&2
  return 1
}

# Chromium for the console's browser tests: Debian's package (Playwright's own download cannot be
# reached from CI). Installed when missing and apt-get is usable; CHROMIUM_PATH points elsewhere.
ensure_chromium() {
  local path=${CHROMIUM_PATH:-/usr/bin/chromium}
  [ -x "$path" ] && return 0
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing Debian's chromium for the browser tests (apt-get)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  [ -x "$path" ] || { echo "no Chromium at $path (install Debian's chromium or set CHROMIUM_PATH)" >&2; return 1; }
}

build() {
  log "building (tsc -b, then the console with vite)"
  npx tsc -b tsconfig.build.json
  npm run build --workspace @troupe/console --silent
}
