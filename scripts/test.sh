#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, starts a Kafka broker of the
# tests' own (and PostgreSQL if it is down), installs Chromium for the browser tests if it is missing,
# builds, then runs unit, integration and end-to-end tests.
#
# The tests never touch a running `npm run start:local` (broker 127.0.0.1:9092, database `troupe`):
# they delete topics and consumer groups, so they get their own broker (port 29092, data beside the
# local one's) and databases (`troupe_test_*`). Set TROUPE_KAFKA_PORT / TROUPE_KAFKA_BROKERS /
# DATABASE_URL to point them elsewhere.
source "$(dirname "$0")/lib.sh"
export TROUPE_KAFKA_PORT=${TROUPE_KAFKA_PORT:-29092}
export TROUPE_KAFKA_CONTROLLER_PORT=${TROUPE_KAFKA_CONTROLLER_PORT:-$((TROUPE_KAFKA_PORT + 1))}
export TROUPE_KAFKA_DATA=${TROUPE_KAFKA_DATA:-${TROUPE_HOME:-$HOME/.cache/troupe}/kafka-test-data}
export TROUPE_KAFKA_BROKERS=${TROUPE_KAFKA_BROKERS:-127.0.0.1:$TROUPE_KAFKA_PORT}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/troupe_test}

ensure_node_modules
ensure_postgres
ensure_chromium
# A broker this run started is stopped when it ends; one already answering is left running.
if ! bash deploy/kafka/kafka.sh status >/dev/null 2>&1; then trap 'bash deploy/kafka/kafka.sh down || true' EXIT; fi
bash deploy/kafka/kafka.sh up
build
log "type-checking the tests"
npx tsc -p tsconfig.spec.json   # ts-jest compiles tests without type checks (isolatedModules)
log "running tests (broker $TROUPE_KAFKA_BROKERS)"
# A suite that hangs fails here with its output, well inside CI's limit (the whole suite takes ~12 min).
timeout --kill-after=30s "${TROUPE_TEST_TIMEOUT:-45m}" npx jest --runInBand "$@"
