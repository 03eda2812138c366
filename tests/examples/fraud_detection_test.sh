#!/usr/bin/env bash
# The acceptance check of fraud_detection: run on its generated input (60 minutes of payments,
# seed 16) it ends by itself (exit 0), and every file it writes (alerts, late payments, malformed
# lines, one of each per batch) equals, byte for byte, what fraud_detection_model.py computes
# from the same input files and profiles CSV without rill. The model's totals are then checked to
# hold the scenarios the generator plants: the limit alerts of c05 (spend) and c12 (count), the
# France-to-US travel alert of c21, malformed lines and late payments, both those ignored by both
# rules and those ignored by the travel join only. The profiles must have been reloaded every 10 batches.
set -euo pipefail
example=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: the check runs elsewhere
model=$(cd "$(dirname "$0")" && pwd)/fraud_detection_model.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Its command line: --help exits 0, a bad value exits 2 naming the option, before anything runs.
for args in "--help:0:Usage: fraud_detection" "--minutes 0:2:--minutes: expected a whole number from 1" \
  "--seed abc:2:--seed: expected a whole number from 0" "--seed 1.5:2:--seed: expected a whole number from 0" \
  "stray:2:not expected: stray"; do
  IFS=: read -r flags code text <<<"$args"
  rc=0
  # shellcheck disable=SC2086
  timeout 10 "$example" $flags >usage.txt 2>&1 </dev/null || rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qF -- "$text" usage.txt; then
    echo "FAIL: fraud_detection $flags exited $rc (expected $code and \"$text\")"
    cat usage.txt
    exit 1
  fi
done
if [ -e payments ] || [ -e fraud-out ]; then
  echo "FAIL: a rejected command line wrote files"
  exit 1
fi

rc=0
timeout 60 "$example" >out.txt 2>err.txt </dev/null || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "FAIL: fraud_detection exited $rc (expected 0, by itself)"
  cat out.txt err.txt
  exit 1
fi
# The profiles are loaded at start and reloaded every 10 batches, at 10000 ... 60000 ms.
if ! grep -qx "fraud_detection: done; profiles loaded 7 times; files in fraud-out" out.txt; then
  echo "FAIL: expected the profiles loaded 7 times (at start and every 10 of the 61 batches)"
  cat out.txt
  exit 1
fi
for made in payments/payments-0000.jsonl payments/payments-0059.jsonl profiles.csv; do
  [ -f "$made" ] || { echo "FAIL: fraud_detection did not write $made"; exit 1; }
done

summary=$(python3 "$model" payments profiles.csv expected)
echo "model: $summary"
if ! diff -r expected fraud-out >diff.txt; then
  echo "FAIL: fraud_detection's files differ from the model's (< expected, > written)"
  head -60 diff.txt
  exit 1
fi

# The planted scenarios are in the expected (hence the written) files.
check() {  # check DESCRIPTION PATTERN: some alert line matches PATTERN
  if ! grep -qhE -- "$2" fraud-out/alerts-*.json; then
    echo "FAIL: no alert for $1"
    exit 1
  fi
}
check "c05's spend" '"kind":"limit","card":"c05",.*"spend_cents":[0-9]{6,}'
check "c12's count" '"kind":"limit","card":"c12",.*"count":(1[3-9]|[2-9][0-9]),'
check "c21 in France then the US" \
  '"kind":"travel","card":"c21","first_payment":"p[0-9]+","first_country":"FR",.*"second_country":"US"'
read -r _ limit _ travel _ late _ malformed _ batches _ join_only_late <<<"$summary"
if [ "$late" -lt 3 ] || [ "$malformed" -ne 9 ] || [ "$batches" -ne 61 ]; then
  echo "FAIL: expected at least 3 late payments, 9 malformed lines and 61 batches: $summary"
  exit 1
fi
# Both kinds of late payment occur: ignored by both rules (25 minutes late) and by the travel
# join only (4 minutes late, a window of theirs still open).
if [ "$join_only_late" -lt 1 ] || [ "$late" -le "$join_only_late" ]; then
  echo "FAIL: expected late payments of both kinds: $summary"
  exit 1
fi
if [ "$(ls fraud-out | wc -l)" -ne $((3 * batches)) ]; then
  echo "FAIL: expected $((3 * batches)) files in fraud-out"
  ls fraud-out
  exit 1
fi
echo "fraud_detection wrote the model's $limit limit and $travel travel alerts, $late late" \
  "payments and $malformed malformed lines over $batches batches"
