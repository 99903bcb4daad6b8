#!/usr/bin/env bash
# Stops what start.sh started (SIGTERM: services finish their batch and commit), then the broker if
# start.sh started it (`--keep-kafka` keeps it anyway).
source "$(dirname "$0")/../../scripts/lib.sh"
for pidfile in .troupe/pids/*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile"); name=$(basename "$pidfile" .pid)
  if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; echo "stopping $name"; fi
done
for pidfile in .troupe/pids/*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  rm -f "$pidfile"
done
if [ -f .troupe/started-kafka ] && [ "${1:-}" != "--keep-kafka" ]; then
  bash deploy/kafka/kafka.sh down
  rm -f .troupe/started-kafka
fi
