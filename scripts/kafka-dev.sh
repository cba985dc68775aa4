#!/usr/bin/env bash
# `npm run kafka:dev [TOPIC:PARTITIONS...]`: librdkafka's mock Kafka cluster (test/support/kafka-mock.c, the broker
# the tests use) on 127.0.0.1, for trying kafka:// triggers and `fnts stream put|tail kafka://…` without a cluster.
# Built on first use with gcc against librdkafka-dev (scripts/setup.sh installs it), in the same place the tests keep
# it. It holds its topics in memory: everything is gone when it stops (Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
src=test/support/kafka-mock.c
hash="$(sha256sum "$src" | cut -c1-12)"
dir="${TMPDIR:-/tmp}/fnts-kafka-mock"
bin="$dir/kafka-mock-$hash"
if [[ ! -x "$bin" ]]; then
  if ! command -v gcc >/dev/null || [[ ! -f /usr/include/librdkafka/rdkafka_mock.h ]]; then
    echo "kafka:dev builds the mock broker with gcc and librdkafka-dev: apt-get install gcc librdkafka-dev" >&2
    exit 1
  fi
  mkdir -p "$dir"
  echo "building the Kafka mock broker ($src)..." >&2
  gcc -O2 -o "$bin.$$.tmp" "$src" -lrdkafka
  mv "$bin.$$.tmp" "$bin"
fi

topics=("$@")
[[ ${#topics[@]} -gt 0 ]] || topics=(orders:4)
coproc MOCK { KAFKA_MOCK_UNTIL_SIGNAL=1 exec "$bin" 1 "${topics[@]}"; }
mock_pid=$MOCK_PID
trap 'kill "$mock_pid" 2>/dev/null || true' INT TERM EXIT
if ! read -r -t 10 bootstrap <&"${MOCK[0]}"; then
  echo "the Kafka mock broker did not start" >&2
  exit 1
fi
topic="${topics[0]%%:*}"
echo "Kafka mock broker: $bootstrap (topics: ${topics[*]}); Ctrl-C stops it"
echo "  bootstrap address:  $bootstrap"
echo "  a trigger's source: kafka://$bootstrap/$topic"
echo "  try:                echo hi | fnts stream put kafka://$bootstrap/$topic && fnts stream tail kafka://$bootstrap/$topic --from-beginning"
wait "$mock_pid" || true
