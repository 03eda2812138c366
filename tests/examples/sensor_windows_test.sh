#!/usr/bin/env bash
# The acceptance check of sensor_windows: run on its bundled input it ends by itself (exit 0) and
# prints exactly the windows that hold the seed sensor's readings, each once, with its bounds and
# mean (the lines starting "tumbling " and "sliding "). The expected windows and means are
# computed here from the readings (20 22 23 21 24 25 27 26 28 30 32 at seconds 1..11), not copied
# from a run; the seed's two tables are then checked literally: tumbling 5 s windows from second
# 1 give 22 and 27.2, 5 s windows sliding by 2 s from second 1 give 22, 24, 26, 28.6 for seconds
# 1-5, 3-7, 5-9 and 7-11. Then the sections added to the seed (every sensor's averages, the quiet
# alerts, the late readings, the malformed lines) are checked against a model of the watermark
# and of append mode written below in Python, run over the input the program dumps
# (--dump-input: batch index and line), with the generator's default seed and with another one.
# Last, --port: the seed sensor's lines from a TCP server give the seed's tables too.
set -euo pipefail
example=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: the check runs elsewhere
work=$(mktemp -d)
client= server=
trap 'kill -9 $client $server 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

# The run with another seed goes side by side with the default one (each takes about 3 s).
(rc7=0; timeout 60 "$example" --seed 7 --dump-input input7.txt >out7.txt 2>err7.txt </dev/null \
  || rc7=$?; echo $rc7 >rc7) &
seven=$!
rc=0
timeout 60 "$example" --dump-input input.txt >out.txt 2>err.txt </dev/null || rc=$?
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
grep -E '^(tumbling|sliding) ' out.txt | sort >actual.txt
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

# The added sections, from the dumped input. The model follows docs/event-time.md: the global
# watermark after batch k is max(previous, latest event time of its well-formed readings - 2 s);
# in batch k rows are judged late against the watermark at the end of batch k - 2 (wm(t -
# interval)): a row leaves a tumbling window whose end <= it, a session [t, t + 3 s) is late when
# its end <= it. A window or session is printed once its end <= the final watermark (the program
# stops in the batch in which it is in force). Means are printed with %g, as the program does.
model() {
  python3 - "$1" <<'PYTHON'
import sys
from collections import defaultdict
batches = defaultdict(list)
for raw in open(sys.argv[1]):
    k, line = raw.rstrip("\n").split("\t", 1)
    batches[int(k)].append(line)
out, wm_end, rows = [], {}, []
wm = None
for k in range(max(batches) + 1):
    bound = wm_end.get(k - 2)
    times = []
    for line in batches[k]:
        f = line.split(",")
        try:
            sensor, t, c = f[0], int(f[1]), float(f[2])
            assert len(f) == 3
        except (ValueError, IndexError, AssertionError):
            out.append("malformed line: " + line)
            continue
        times.append(t)
        rows.append((sensor, t, c, bound))
    if times:
        wm = max(wm, max(times) - 2000) if wm is not None else max(times) - 2000
    wm_end[k] = wm
final = wm
tumbling = defaultdict(list)
sessions = defaultdict(list)
for sensor, t, c, bound in rows:
    start = (t - 1000) // 5000 * 5000 + 1000
    if bound is not None and start + 5000 <= bound:
        out.append("late %s reading at %d ms: its window had closed" % (sensor, t))
    else:
        tumbling[(sensor, start)].append(c)
    if bound is None or t + 3000 > bound:
        sessions[sensor].append(t)
for (sensor, start), cs in tumbling.items():
    if start + 5000 <= final:
        out.append("average %s [%d,%d): mean %s of %d reading%s" % (
            sensor, start, start + 5000, "%g" % (sum(cs) / len(cs)), len(cs),
            "" if len(cs) == 1 else "s"))
for sensor, ts in sessions.items():
    ts.sort()
    groups = [[ts[0]]]
    for t in ts[1:]:
        if t <= groups[-1][-1] + 3000: groups[-1].append(t)
        else: groups.append([t])
    for g in groups:
        if g[-1] + 3000 <= final:
            out.append("quiet %s: no reading for 3 s after %d ms (session [%d,%d) of %d reading%s)" % (
                sensor, g[-1], g[0], g[-1] + 3000, len(g), "" if len(g) == 1 else "s"))
print("\n".join(sorted(out)))
PYTHON
}

check_added_sections() {
  model input.txt >expected-added.txt
  grep -vE '^(tumbling|sliding) ' out.txt | sort >actual-added.txt
  if ! diff -u expected-added.txt actual-added.txt; then
    echo "FAIL: sensor_windows $* printed other averages, alerts, late or malformed lines (- expected, + printed)"
    exit 1
  fi
  # The bundled input shows each kind: a quiet alert in the middle (s3 off from second 5 to 8),
  # late readings and malformed lines.
  for pattern in '^quiet s3: no reading for 3 s after 4300 ms' '^late ' '^malformed line: ' '^average s2 '; do
    if ! grep -qE "$pattern" out.txt; then
      echo "FAIL: sensor_windows $* printed no line matching $pattern"
      exit 1
    fi
  done
}
check_added_sections

# Another seed: the seed sensor's tables stay, the generated sensors change.
wait "$seven"
rc=$(cat rc7)
mv input7.txt input.txt; mv out7.txt out.txt; mv err7.txt err.txt
if [ "$rc" -ne 0 ]; then
  echo "FAIL: sensor_windows --seed 7 exited $rc"
  cat out.txt err.txt
  exit 1
fi
grep -E '^(tumbling|sliding) ' out.txt | sort >actual.txt
diff -u expected.txt actual.txt || { echo "FAIL: --seed 7 changed the seed sensor's tables"; exit 1; }
check_added_sections --seed 7
# --port: the seed sensor's lines from a TCP server (nc), all at once: none is late (no watermark
# before them), the reading of second 18 closes the windows, and the seed's tables are printed as
# from the bundled input; SIGTERM then stops it gracefully (exit 0).
port=$(( 20000 + RANDOM % 20000 ))
"$example" --port "$port" >socket-out.txt 2>socket-err.txt </dev/null &
client=$!
sleep 0.3  # the client starts first and retries
awk 'BEGIN { split("20 22 23 21 24 25 27 26 28 30 32", c, " ")
             for (s = 1; s <= 11; s++) printf "s1,%d,%s\n", s * 1000, c[s]
             print "s1,18000,31" }' >socket-lines.txt
nc -l 127.0.0.1 "$port" <socket-lines.txt &  # keeps the connection open after its input
server=$!
for _ in $(seq 1 150); do
  [ "$(grep -cE '^(tumbling|sliding) ' socket-out.txt)" -ge "$(wc -l <expected.txt)" ] && break
  sleep 0.1
done
sleep 0.3  # nothing more may come: the rest of the windows stay open
kill -TERM "$client"
rc=0
wait "$client" || rc=$?
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
grep -E '^(tumbling|sliding) ' socket-out.txt | sort >actual.txt
if [ "$rc" -ne 0 ] || ! diff -u expected.txt actual.txt; then
  echo "FAIL: sensor_windows --port exited $rc or printed other windows (- expected, + printed)"
  cat socket-out.txt socket-err.txt
  exit 1
fi
echo "sensor_windows printed each window of the seed sensor once, the seed's tables among them, and every sensor's averages, quiet alerts, late readings and malformed lines as the model says"
