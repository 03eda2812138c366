#!/usr/bin/env bash
# The acceptance check of replay (Kappa): run on its generated input it ends by itself (exit 0),
# its live run and its available_now replay wrote the same lines, and those lines are the ones a
# model written here in Python computes from the input files the program moved in (DIR/input):
# page views per user per 10 s tumbling window of event time, append mode with a 5 s watermark
# delay, late views and malformed lines apart. The model also checks the generator's promise:
# every view is late against both runs' watermark bounds or against neither (docs/event-time.md:
# in batch t rows are judged against wm(t - interval); the replay reads a file per batch, so
# file i is judged against the files up to i - 2, the live run against those up to i - 1).
# Further arguments go to the program: `--mock` runs the same check on a Kafka topic in an
# in-process mock cluster (ctest examples.replay_kafka), where DIR/input holds a copy of the
# records the program produced, one record per file.
set -euo pipefail
example=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # absolute: the check runs elsewhere
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Two seeds, run side by side (each run takes about 4 s, mostly the live run's waiting).
for seed in 16 5; do
  (rc=0; timeout 60 "$example" --dir w$seed --seed "$seed" "$@" >out$seed.txt 2>err$seed.txt </dev/null \
    || rc=$?; echo $rc >rc$seed) &
done
wait
for seed in 16 5; do
  rm -rf w out.txt err.txt
  mv w$seed w; mv out$seed.txt out.txt; mv err$seed.txt err.txt
  rc=$(cat rc$seed)
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: replay --seed $seed exited $rc (expected 0, by itself)"
    cat out.txt err.txt
    exit 1
  fi
  python3 - w >expected.txt <<'PYTHON'
import glob, os, sys
files = sorted(glob.glob(os.path.join(sys.argv[1], "input", "views-*.csv")))
assert len(files) == 14, files
rows, malformed, bounds, wm = [], [], [], None
for i, path in enumerate(files):
    times = []
    for line in open(path).read().splitlines():
        f = line.split(",")
        try:
            assert len(f) == 3
            user, t, page = f[0], int(f[1]), f[2]
        except (AssertionError, ValueError):
            malformed.append(line)
            continue
        rows.append((i, user, t, page))
        times.append(t)
    if times:
        wm = max(wm, max(times) - 5000) if wm is not None else max(times) - 5000
    bounds.append(wm)
final = wm
counts, late = {}, []
for i, user, t, page in rows:
    end = t // 10000 * 10000 + 10000
    replay_bound = bounds[i - 2] if i >= 2 else None
    live_bound = bounds[i - 1] if i >= 1 else None
    is_late = [b is not None and end <= b for b in (replay_bound, live_bound)]
    if is_late[0] != is_late[1]:
        sys.exit("the generator broke its promise: view %s,%d,%s of file %d" % (user, t, page, i))
    if is_late[0]:
        late.append("late %s,%d,%s" % (user, t, page))
    else:
        counts[(end - 10000, user)] = counts.get((end - 10000, user), 0) + 1
out = ["counts ([%d,%d),%s,%d)" % (s, s + 10000, u, n) for (s, u), n in counts.items() if s + 10000 <= final]
out += late + ["malformed " + m for m in malformed]
print("\n".join(sorted(out)))
PYTHON
  for run in live replay; do
    for kind in counts late malformed; do
      cat w/$run/$kind-* | sed "s/^/$kind /"
    done | sort >actual-$run.txt
    if ! diff -u expected.txt actual-$run.txt; then
      echo "FAIL: the $run run (--seed $seed) wrote other lines than the model (- expected, + written)"
      exit 1
    fi
  done
  for kind in counts late malformed; do
    n=$(grep -c "^$kind " expected.txt || true)
    line="$kind: live $n lines, replay $n lines, the same"
    if ! grep -qxF -- "$line" out.txt; then
      echo "FAIL: replay --seed $seed did not print: $line"
      cat out.txt
      exit 1
    fi
  done
  grep -qxF "the replay gives the live run's results" out.txt
  # The bundled input shows each kind (late views and malformed lines included).
  for kind in late malformed; do
    grep -q "^$kind " expected.txt || { echo "FAIL: no $kind lines with --seed $seed"; exit 1; }
  done
  # The replay ran fewer batches than the live run: the same lines from another batching.
  [ "$(ls w/replay | wc -l)" -lt "$(ls w/live | wc -l)" ] || { echo "FAIL: the replay ran as many batches as the live run"; exit 1; }
done
echo "replay $*: the live run and the available_now replay wrote the model's lines, for two seeds"
