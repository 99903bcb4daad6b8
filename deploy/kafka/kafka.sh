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
#
# A SASL_SSL listener (SCRAM-SHA-256 and -512 over TLS) is added when TROUPE_KAFKA_SASL_SSL_PORT is
# set, with TROUPE_KAFKA_SSL_KEYSTORE (a PKCS12 file holding the broker's key and certificate),
# TROUPE_KAFKA_SSL_KEYSTORE_PASSWORD, and TROUPE_KAFKA_SCRAM_USERS (`user:password,...`, created when
# the storage is formatted: use a fresh TROUPE_KAFKA_DATA).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
home=${TROUPE_HOME:-$HOME/.cache/troupe}
libs="$home/kafka-$version/libs"
data=${TROUPE_KAFKA_DATA:-$home/kafka-data}
port=${TROUPE_KAFKA_PORT:-9092}
controller_port=${TROUPE_KAFKA_CONTROLLER_PORT:-9093}
pidfile="$data/broker.pid"
sasl_ssl_port=${TROUPE_KAFKA_SASL_SSL_PORT:-}

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
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port${sasl_ssl_port:+,SASL_SSL://127.0.0.1:$sasl_ssl_port}
advertised.listeners=PLAINTEXT://127.0.0.1:$port${sasl_ssl_port:+,SASL_SSL://127.0.0.1:$sasl_ssl_port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
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
# Idle cost of a single-node broker (measured: 0.033 -> 0.013 CPU-s/s with no client): the active
# controller's no-op metadata record every 500 ms (KIP-835) only tells other brokers the controller
# lives, and there are none; the broker's heartbeat to its own controller every 6 s instead of 2 s.
metadata.max.idle.interval.ms=0
broker.heartbeat.interval.ms=6000
broker.session.timeout.ms=18000
PROPS
  if [ -n "$sasl_ssl_port" ]; then
    cat >> "$data/server.properties" <<PROPS
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=${TROUPE_KAFKA_SSL_KEYSTORE:?TROUPE_KAFKA_SSL_KEYSTORE is needed with TROUPE_KAFKA_SASL_SSL_PORT}
ssl.keystore.password=${TROUPE_KAFKA_SSL_KEYSTORE_PASSWORD:?TROUPE_KAFKA_SSL_KEYSTORE_PASSWORD is needed with TROUPE_KAFKA_SASL_SSL_PORT}
PROPS
  fi
}

# SCRAM credentials for the storage format (KRaft keeps them in the metadata log).
scram_args() {
  local entry user password
  [ -n "$sasl_ssl_port" ] || return 0
  IFS=',' read -ra entries <<< "${TROUPE_KAFKA_SCRAM_USERS:-}"
  for entry in "${entries[@]}"; do
    user=${entry%%:*}; password=${entry#*:}
    printf -- '--add-scram\nSCRAM-SHA-256=[name=%s,password=%s]\n--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' \
      "$user" "$password" "$user" "$password"
  done
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
    local scram=()
    mapfile -t scram < <(scram_args)
    java_cmd kafka.tools.StorageTool format -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
      -c "$data/server.properties" --ignore-formatted "${scram[@]}" >/dev/null
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
