#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, starts the local Kafka broker
# (and PostgreSQL if it is down), builds, then runs unit, integration and end-to-end tests.
source "$(dirname "$0")/lib.sh"
ensure_node_modules
ensure_postgres
bash deploy/kafka/kafka.sh up
build
log "type-checking the tests"
npx tsc -p tsconfig.spec.json   # ts-jest compiles tests without type checks (isolatedModules)
log "running tests"
npx jest --runInBand "$@"
