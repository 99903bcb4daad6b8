#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) for development and CI, without Docker.
#
#   deploy/kafka/kafka.sh up      resolve the broker from Maven Central (once), format storage (once), start it
#   deploy/kafka/kafka.sh down    stop it
#   deploy/kafka/kafka.sh status  print whether it answers on TROUPE_KAFKA_PORT
#   deploy/kafka/kafka.sh reset   stop it and delete its data
#
# Jars and data live outside the repository, under TROUPE_HOME (default ~/.cache/troupe); the data
# directory can be moved on its own with TROUPE_KAFKA_DATA (the benchmark runs its own broker so).
# `up` is idempotent: a broker already answering on the port is reused.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
home=${TROUPE_HOME:-$HOME/.cache/troupe}
libs="$home/kafka-$version/libs"
data=${TROUPE_KAFKA_DATA:-$home/kafka-data}
port=${TROUPE_KAFKA_PORT:-9092}
controller_port=${TROUPE_KAFKA_CONTROLLER_PORT:-9093}
pidfile="$data/broker.pid"

answering() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

resolve() {
  [ -f "$libs/.complete" ] && return 0
  echo "kafka: resolving Apache Kafka $version from Maven Central into $libs"
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime
  touch "$libs/.complete"
}

configure() {
  mkdir -p "$data/logs" "$data/kraft"
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/kraft
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
# Troupe creates its topics itself, with partitions and retention; a typo must not create one.
auto.create.topics.enable=false
log.retention.hours=168
PROPS
}

java_cmd() {
  java -Xms256m -Xmx768m -XX:+UseG1GC -Dkafka.logs.dir="$data/logs" \
    -Dlog4j.configuration="file:$here/log4j.properties" -cp "$libs/*" "$@"
}

up() {
  if answering; then echo "kafka: already answering on 127.0.0.1:$port"; return 0; fi
  resolve
  configure
  if [ ! -f "$data/kraft/meta.properties" ]; then
    java_cmd kafka.tools.StorageTool format -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
      -c "$data/server.properties" --ignore-formatted >/dev/null
  fi
  nohup bash -c "$(declare -f java_cmd); here='$here'; data='$data'; libs='$libs'; java_cmd kafka.Kafka '$data/server.properties'" \
    >"$data/logs/console.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if answering; then echo "kafka: broker $version up on 127.0.0.1:$port (logs: $data/logs)"; return 0; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "kafka: broker exited; last lines of $data/logs/console.log:" >&2
      tail -20 "$data/logs/console.log" >&2; exit 1
    fi
    sleep 0.5
  done
  echo "kafka: broker did not answer within 60 s (logs: $data/logs)" >&2; exit 1
}

down() {
  local pid
  pid=$(pgrep -f "kafka.Kafka $data/server.properties" || true)
  if [ -z "$pid" ]; then echo "kafka: not running (from $data)"; return 0; fi
  kill $pid
  for _ in $(seq 1 60); do kill -0 $pid 2>/dev/null || { echo "kafka: stopped"; return 0; }; sleep 0.5; done
  kill -9 $pid 2>/dev/null || true; echo "kafka: killed"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if answering; then echo "kafka: up on 127.0.0.1:$port"; else echo "kafka: down"; exit 1; fi ;;
  reset) down; rm -rf "$data"; echo "kafka: data removed" ;;
  *) echo "usage: $0 up|down|status|reset" >&2; exit 2 ;;
esac
