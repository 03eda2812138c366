#!/usr/bin/env bash
# fraud_detection on Kafka (ctest examples.fraud_detection_kafka, labels example and kafka): run
# with --mock --alerts-topic alerts it produces its generated input files into the mock's topic
# 'payments', reads them back with direct_stream one record per batch, writes its files and the
# alerts topic (one transaction per batch), reads that topic back with read_committed into
# fraud-out/kafka-alerts.txt and ends by itself (exit 0). Every file it writes must equal what
# fraud_detection_model.py computes from the same input files and profiles without rill, and the
# alerts read back from the topic must be exactly the model's alerts, each once, tagged with
# the batch of the model's file that holds it, the batches in order.
set -euo pipefail
example=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: the check runs elsewhere
model=$(cd "$(dirname "$0")" && pwd)/fraud_detection_model.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The Kafka options' command line: refused combinations exit 2 with a message, before anything runs.
for args in "--alerts-topic alerts:2:--alerts-topic needs --mock or --brokers" \
  "--mock --checkpoint ckpt:2:--checkpoint excludes --mock" \
  "--brokers 127.0.0.1:1:2:--brokers requires --topic" \
  "--mock --brokers 127.0.0.1:1 --topic p:2:--brokers excludes --mock"; do
  flags=${args%:2:*}
  text=${args##*:2:}
  rc=0
  # shellcheck disable=SC2086
  timeout 10 "$example" $flags >usage.txt 2>&1 </dev/null || rc=$?
  if [ "$rc" -ne 2 ] || ! grep -qF -- "$text" usage.txt; then
    echo "FAIL: fraud_detection $flags exited $rc (expected 2 and \"$text\")"
    cat usage.txt
    exit 1
  fi
done
if [ -e payments ] || [ -e fraud-out ]; then
  echo "FAIL: a rejected command line wrote files"
  exit 1
fi

rc=0
timeout 60 "$example" --mock --alerts-topic alerts >out.txt 2>err.txt </dev/null || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "FAIL: fraud_detection --mock --alerts-topic alerts exited $rc (expected 0, by itself)"
  cat out.txt err.txt
  exit 1
fi
for line in "fraud_detection: produced the 60 files of payments into topic 'payments'" \
  "fraud_detection: done; profiles loaded 7 times; files in fraud-out"; do
  if ! grep -qxF "$line" out.txt; then
    echo "FAIL: expected the line: $line"
    cat out.txt
    exit 1
  fi
done

summary=$(python3 "$model" payments profiles.csv expected)
echo "model: $summary"
read -r _ limit _ travel _ late _ malformed _ batches _ <<<"$summary"
# The batches are the file mode's (one record, one file), so the files are the same.
if ! diff -r -x kafka-alerts.txt expected fraud-out >diff.txt; then
  echo "FAIL: fraud_detection's files on Kafka differ from the model's (< expected, > written)"
  head -60 diff.txt
  exit 1
fi
if [ "$(ls fraud-out | wc -l)" -ne $((3 * batches + 1)) ]; then
  echo "FAIL: expected $((3 * batches)) files and kafka-alerts.txt in fraud-out"
  ls fraud-out
  exit 1
fi

# The alerts topic, read back with read_committed: "<rill.batch> <alert>" lines, each of the
# model's alerts exactly once, with the batch time of the model's file alerts-<ms>.json.
for f in expected/alerts-*.json; do
  t=${f#expected/alerts-}
  t=${t%.json}
  sed "s/^/$t /" "$f"
done | LC_ALL=C sort >expected-topic.txt
LC_ALL=C sort fraud-out/kafka-alerts.txt >read-topic.txt
if ! diff expected-topic.txt read-topic.txt >diff.txt; then
  echo "FAIL: the alerts topic differs from the model's alerts (< expected, > read back)"
  head -40 diff.txt
  exit 1
fi
alerts=$(wc -l <fraud-out/kafka-alerts.txt)
if [ "$alerts" -ne $((limit + travel)) ] || [ "$alerts" -lt 3 ]; then
  echo "FAIL: expected the model's $((limit + travel)) alerts (at least 3) in the topic, read $alerts"
  exit 1
fi
# One partition, one transaction per batch: the batches come in order.
if ! cut -d' ' -f1 fraud-out/kafka-alerts.txt | sort -c -n; then
  echo "FAIL: the alerts topic's batches are out of order"
  cat fraud-out/kafka-alerts.txt
  exit 1
fi
if ! grep -qxF "fraud_detection: read $alerts committed alerts back from topic 'alerts' into fraud-out/kafka-alerts.txt" out.txt; then
  echo "FAIL: expected the program to report the $alerts alerts it read back"
  cat out.txt
  exit 1
fi
echo "fraud_detection on Kafka wrote the model's files over $batches batches and its $limit limit" \
  "and $travel travel alerts to the alerts topic, each once ($late late payments, $malformed" \
  "malformed lines)"
