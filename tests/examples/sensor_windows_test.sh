#!/usr/bin/env bash
# The acceptance check of sensor_windows: run on its bundled input it ends by itself (exit 0) and
# prints exactly the windows that hold its readings, each once, with its bounds and mean. The
# expected windows and means are computed here from the readings (20 22 23 21 24 25 27 26 28 30
# 32 at seconds 1..11), not copied from a run; the seed's two tables are then checked literally:
# tumbling 5 s windows from second 1 give 22 and 27.2, 5 s windows sliding by 2 s from second 1
# give 22, 24, 26, 28.6 for seconds 1-5, 3-7, 5-9 and 7-11.
set -euo pipefail
example=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: the check runs elsewhere
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

rc=0
timeout 60 "$example" >out.txt 2>err.txt </dev/null || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "FAIL: sensor_windows exited $rc (expected 0, by itself)"
  cat out.txt err.txt
  exit 1
fi

# Every window [s, s + 5 s) with s ≡ 1 s (mod slide) that holds at least one of the readings:
# its mean over them (printf %g, as the example prints it) and their count; partial when it
# holds fewer than one reading for each of its 5 seconds. Seconds, then ms in the window bounds.
awk 'BEGIN {
  split("20 22 23 21 24 25 27 26 28 30 32", celsius, " ")
  n = 11                                  # celsius[i] is the reading of second i
  specs["tumbling"] = 5; specs["sliding"] = 2
  for (label in specs) {
    slide = specs[label]
    for (s = 1 - 2 * 5; s <= n; s += slide) {   # starts ≡ 1 (mod slide), from before second 1
      sum = 0; count = 0
      for (i = 1; i <= n; i++) if (i >= s && i < s + 5) { sum += celsius[i]; count++ }
      if (count == 0) continue
      printf "%s [%d,%d) seconds %d to %d: mean %g of %d reading%s%s\n", label, s * 1000,
             (s + 5) * 1000, s, s + 4, sum / count, count, (count == 1 ? "" : "s"),
             (count < 5 ? " (partial)" : "")
    }
  }
}' | sort >expected.txt
sort out.txt >actual.txt
if ! diff -u expected.txt actual.txt; then
  echo "FAIL: sensor_windows printed other windows than those of its readings (- expected, + printed)"
  exit 1
fi

# The seed's tables, literally.
for line in \
  "tumbling [1000,6000) seconds 1 to 5: mean 22 of 5 readings" \
  "tumbling [6000,11000) seconds 6 to 10: mean 27.2 of 5 readings" \
  "sliding [1000,6000) seconds 1 to 5: mean 22 of 5 readings" \
  "sliding [3000,8000) seconds 3 to 7: mean 24 of 5 readings" \
  "sliding [5000,10000) seconds 5 to 9: mean 26 of 5 readings" \
  "sliding [7000,12000) seconds 7 to 11: mean 28.6 of 5 readings"; do
  if [ "$(grep -cxF -- "$line" out.txt)" -ne 1 ]; then
    echo "FAIL: sensor_windows did not print once: $line"
    cat out.txt
    exit 1
  fi
done
echo "sensor_windows printed each window of its readings once, the seed's tables among them"
