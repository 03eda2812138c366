#!/usr/bin/env bash
# Exactly once across SIGKILL, for fraud_detection: a run with --checkpoint is killed (kill -9)
# KILLS times, each after a random delay (seeded: bash's RANDOM from SEED) within the length of
# an uninterrupted run divided by KILLS, and started again with the same arguments
# until it exits 0. Its committed output files (every name not starting with `.`) must then equal, byte for byte and
# name for name, those of an uninterrupted run without a checkpoint on the same input (and so
# must an uninterrupted run with one, whose length sets the kill delays).
# Usage: fraud_detection_crash_test.sh PROGRAM [KILLS=6] [SEED=16] [MINUTES=60]
set -euo pipefail
example=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kills=${2:-6}
seed=${3:-16}
minutes=${4:-60}
work=$(mktemp -d)
child=
cleanup() {
  if [ -n "$child" ]; then kill -9 "$child" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
cd "$work"
mkdir plain crashed

# The uninterrupted run without a checkpoint: the reference.
(cd plain && timeout 120 "$example" --minutes "$minutes" >out.txt 2>err.txt </dev/null) || {
  echo "FAIL: the uninterrupted run failed"
  cat plain/err.txt
  exit 1
}
# An uninterrupted run with a checkpoint, timed (ms): the kills fall within its length.
mkdir timed
cp -r plain/payments plain/profiles.csv timed/
begin=$(date +%s%N)
(cd timed && timeout 120 "$example" --minutes "$minutes" --checkpoint ckpt >out.txt 2>err.txt \
  </dev/null) || {
  echo "FAIL: the uninterrupted run with a checkpoint failed"
  cat timed/err.txt
  exit 1
}
length_ms=$((($(date +%s%N) - begin) / 1000000))
if ! diff -r plain/fraud-out timed/fraud-out >/dev/null; then
  echo "FAIL: the run with a checkpoint wrote other files than the run without"
  diff -r plain/fraud-out timed/fraud-out | head -20
  exit 1
fi
cp -r plain/payments plain/profiles.csv crashed/

RANDOM=$seed
killed=0
runs=0
run() {  # starts the checkpointed run in the background; its pid in $child
  (cd crashed && exec "$example" --minutes "$minutes" --checkpoint ckpt >>out.txt 2>>err.txt \
    </dev/null) &
  child=$!
  runs=$((runs + 1))
}
for ((k = 0; k < kills; k++)); do
  run
  # A run not killed finishes the input, and the next ones have nothing left: so each delay is
  # drawn within the uninterrupted length over the number of kills, which spreads the kills over
  # the input (each restart also spends time recovering).
  delay_ms=$((RANDOM % (length_ms / kills + 1)))
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  kill -9 "$child" 2>/dev/null || true
  status=0
  wait "$child" 2>/dev/null || status=$?
  if [ "$status" -eq 137 ]; then killed=$((killed + 1)); fi  # it was running: SIGKILL ended it
  echo "run $runs: killed after ${delay_ms} ms, exit $status"
  child=
done
# Until it ends by itself.
rc=1
for ((attempt = 0; attempt < 5 && rc != 0; attempt++)); do
  run
  rc=0
  timeout 120 tail --pid="$child" -f /dev/null || kill -9 "$child" 2>/dev/null || true
  wait "$child" || rc=$?
  child=
done
if [ "$rc" -ne 0 ]; then
  echo "FAIL: the checkpointed run did not finish (exit $rc)"
  tail -20 crashed/err.txt
  exit 1
fi

committed() { (cd "$1" && find . -type f ! -name '.*' | sort); }
if ! diff <(committed plain/fraud-out) <(committed crashed/fraud-out); then
  echo "FAIL: the killed and restarted runs committed other files (< uninterrupted, > killed)"
  exit 1
fi
while read -r name; do
  if ! cmp -s "plain/fraud-out/$name" "crashed/fraud-out/$name"; then
    echo "FAIL: $name differs after $killed kills"
    diff "plain/fraud-out/$name" "crashed/fraud-out/$name" | head -20
    exit 1
  fi
done < <(committed plain/fraud-out)
echo "fraud_detection: $killed kills (of $kills tried) and $runs runs wrote the $(committed \
  plain/fraud-out | wc -l) files of an uninterrupted ${length_ms} ms run, byte for byte"
# Most kills must have hit a running program, or the test proves little.
if [ "$killed" -lt $(((kills + 1) / 2)) ]; then
  echo "FAIL: only $killed of $kills kills hit a running program"
  exit 1
fi
