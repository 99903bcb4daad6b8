#!/usr/bin/env bash
# Starts Troupe on local defaults: Kafka (KRaft, from Maven Central), PostgreSQL (the local server),
# an example webhook receiver and the five services, in the background. Stop with `npm run stop:local`.
source "$(dirname "$0")/../../scripts/lib.sh"

state="$root/.troupe"
mkdir -p "$state/logs" "$state/pids"

ensure_node_modules
ensure_postgres
# Remember whether this start brought the broker up, so stop.sh leaves a broker it did not start.
bash deploy/kafka/kafka.sh status >/dev/null 2>&1 || touch "$state/started-kafka"
bash deploy/kafka/kafka.sh up
build

# Local defaults; every one can be overridden from the environment.
export NODE_ENV=${NODE_ENV:-development}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/troupe}
export TROUPE_KAFKA_BROKERS=${TROUPE_KAFKA_BROKERS:-127.0.0.1:9092}
export TROUPE_API_KEYS=${TROUPE_API_KEYS:-local:platform:troupe-local-dev-key}
export TROUPE_WEBHOOK_SECRETS=${TROUPE_WEBHOOK_SECRETS:-*=whsec_dHJvdXBlLWxvY2FsLWRldi1zZWNyZXQ=}
export TROUPE_RECEIVER_PORT=${TROUPE_RECEIVER_PORT:-4000}
# The example receiver is on loopback, which the SSRF guard refuses unless allowlisted.
export TROUPE_EGRESS_ALLOWLIST=${TROUPE_EGRESS_ALLOWLIST:-127.0.0.1}
# Traces go to Jaeger when an OTLP endpoint is given; otherwise they are off, not retried into the void.
if [ -z "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ]; then export OTEL_TRACES_EXPORTER=${OTEL_TRACES_EXPORTER:-none}; fi

declare -A ports=([intake]=3000 [classification]=3001 [generation]=3002 [validation]=3003 [delivery]=3004)

start() { # name, command...
  local name=$1; shift
  local pidfile="$state/pids/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "  $name: already running"; return; fi
  nohup "$@" >>"$state/logs/$name.log" 2>&1 &
  echo $! >"$pidfile"
}

log "starting the example webhook receiver and the five services (logs: .troupe/logs/)"
start receiver node deploy/local/example-receiver.js
for svc in intake classification generation validation delivery; do
  PORT=${ports[$svc]} start "$svc" node "services/$svc/dist/main.js"
done

for svc in intake classification generation validation delivery; do
  for i in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:${ports[$svc]}/ready" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$(cat "$state/pids/$svc.pid")" 2>/dev/null; then
      echo "$svc exited; last lines of .troupe/logs/$svc.log:" >&2; tail -20 "$state/logs/$svc.log" >&2; exit 1
    fi
    [ "$i" = 120 ] && { echo "$svc not ready after 60 s (.troupe/logs/$svc.log)" >&2; exit 1; }
    sleep 0.5
  done
done

cat <<INFO

Troupe is up.
  API            http://127.0.0.1:3000/v1/jobs      (Authorization: Bearer ${TROUPE_API_KEYS##*:})
  Console        http://127.0.0.1:3000/console   (sign in with an API key above)
  OpenAPI UI     http://127.0.0.1:3000/docs
  Webhooks       http://127.0.0.1:${TROUPE_RECEIVER_PORT}/webhooks   (example receiver; verified deliveries in .troupe/logs/receiver.log)
  Probes         http://127.0.0.1:300[0-4]/health, /ready, /metrics
Stop with: npm run stop:local
INFO
