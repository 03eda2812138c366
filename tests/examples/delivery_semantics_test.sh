#!/usr/bin/env bash
# The acceptance check of delivery_semantics: it ends by itself (exit 0) after running its
# pipeline with at_most_once, at_least_once and exactly_once while killing it; what it prints
# for each (payments in, lines written, lost, repeated) equals what this script counts itself
# from the files it left (DIR/<mode>/in: the payment files moved in; DIR/<mode>/out: the
# output), and the guarantees hold: exactly_once lost 0 and repeated 0, at_least_once lost 0,
# at_most_once repeated 0 and (as files arrive while it is down) lost some.
# Further arguments go to the program: `--mock` runs the same check with the payments produced
# into Kafka topics of an in-process mock cluster (ctest examples.delivery_semantics_kafka), where
# DIR/<mode>/in holds a copy of the produced lines, a file per group of records.
set -euo pipefail
example=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: the check runs elsewhere
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

rc=0
timeout 60 "$example" --dir w --kills 4 "$@" >out.txt 2>err.txt </dev/null || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "FAIL: delivery_semantics exited $rc (expected 0, by itself)"
  cat out.txt
  grep -v 'malformed line skipped' err.txt | tail -20
  exit 1
fi
cat out.txt

failures=0
for mode in at_most_once at_least_once exactly_once; do
  # Well-formed payment lines "id,account,cents" of the input, then of the output; each id
  # counted once per output line.
  counts=$(awk -v FS=, '
    FNR == 1 { output = (FILENAME ~ /\/out\//) }
    !/^[0-9]+,acct-[0-9]+,[0-9]+$/ { if (output) torn++; next }
    !output { input[$1] = 1; next }
    { written++; seen[$1]++ }
    END {
      for (id in input) { payments++; if (!(id in seen)) lost++ }
      for (id in seen) { if (!(id in input)) unknown++; if (seen[id] > 1) repeated += seen[id] - 1 }
      printf "%d %d %d %d %d %d\n", payments, written, lost, repeated, unknown, torn
    }' w/$mode/in/payments-*.csv w/$mode/out/*)
  read -r payments written lost repeated unknown torn <<<"$counts"
  expected="$payments payments in, 4 kills (2 right after an output write): $written lines written, $lost lost, $repeated repeated"
  if [ "$(grep -c -- "^$mode *$expected\$" out.txt)" -ne 1 ]; then
    echo "FAIL: $mode: counted here \"$expected\""
    failures=$((failures + 1))
  fi
  [ "$payments" -eq 400 ] || { echo "FAIL: $mode: $payments payments in the input (expected 20 files of 20)"; failures=$((failures + 1)); }
  [ "$unknown" -eq 0 ] && [ "$torn" -eq 0 ] || { echo "FAIL: $mode: $unknown unknown and $torn torn output lines"; failures=$((failures + 1)); }
  case $mode in
    exactly_once) [ "$lost" -eq 0 ] && [ "$repeated" -eq 0 ] ;;
    at_least_once) [ "$lost" -eq 0 ] ;;
    at_most_once) [ "$repeated" -eq 0 ] && [ "$lost" -gt 0 ] ;;
  esac || { echo "FAIL: $mode broke its guarantee: $lost lost, $repeated repeated"; failures=$((failures + 1)); }
done
[ "$failures" -eq 0 ] || exit 1
echo "delivery_semantics $*: each mode's counts match the files and keep its guarantee"
