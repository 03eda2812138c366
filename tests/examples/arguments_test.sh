#!/usr/bin/env bash
# The examples' command lines (CLI11): a bad argument makes the program exit 2 at once, before
# anything starts, with a message on stderr naming the argument and what it takes; --help exits 0
# with the usage on stdout; a good command line still runs. Each program gets at most 5 s, so a
# regression that runs forever fails instead of hanging.
set -euo pipefail
dir=$(cd "$1" && pwd)  # the directory holding the built examples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"  # whatever a program might write by mistake lands here
failures=0

# expect CODE TEXT PROGRAM ARGS...: PROGRAM ARGS must exit with CODE and print TEXT on stderr (on
# stdout when CODE is 0).
expect() {
  local code=$1 text=$2 program=$3
  shift 3
  local rc=0
  timeout 5 "$dir/$program" "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
  local stream=err
  [ "$code" -eq 0 ] && stream=out
  if [ "$rc" -eq "$code" ] && grep -qF -- "$text" "$work/$stream"; then
    echo "ok: $program $* exited $rc"
  else
    echo "FAIL: $program $* exited $rc (expected $code and \"$text\" on std$stream)"
    sed 's/^/  stdout: /' "$work/out" | head -20
    sed 's/^/  stderr: /' "$work/err" | head -20
    failures=$((failures + 1))
  fi
}

# rate_count: typed, positive options.
expect 2 "--rows-per-second: expected a whole number from 1 to 10000000, got 'abc'" \
  rate_count --rows-per-second abc
expect 2 "--rows-per-second: expected a whole number from 1" rate_count --rows-per-second 0
expect 2 "--rows-per-second: expected a whole number from 1" rate_count --rows-per-second 1.5
expect 2 "--seconds: expected a whole number from 1 to 2147483647, got '-3'" rate_count --seconds -3
expect 2 "--seconds: expected a whole number from 1" rate_count --seconds 0
expect 2 "--seconds: expected a whole number from 1" rate_count --seconds 99999999999
expect 2 "--seconds: 1 required" rate_count --seconds
expect 2 "not expected: stray" rate_count stray
expect 2 "not expected: 5 --rate" rate_count --rate 5
expect 0 "Usage: rate_count" rate_count --help
expect 0 "--rows-per-second" rate_count -h

# network_word_count and stateful_word_count: HOST and a port from 1 to 65535.
for program in network_word_count stateful_word_count; do
  expect 2 "PORT: expected a whole number from 1 to 65535, got '99999'" $program localhost 99999
  expect 2 "PORT: expected a whole number from 1 to 65535, got '0'" $program localhost 0
  expect 2 "PORT: expected a whole number from 1 to 65535, got '-1'" $program localhost -1
  expect 2 "PORT: expected a whole number from 1 to 65535, got 'abc'" $program localhost abc
  expect 2 "PORT is required" $program localhost
  expect 2 "HOST is required" $program
  expect 2 "HOST: must not be empty" $program "" 9999
  expect 2 "not expected: extra" $program localhost 9999 extra
  expect 0 "Usage: $program [OPTIONS] HOST PORT" $program --help
done

# file_word_count: DIR must exist when it starts, said once.
touch "$work/a-file"
expect 2 "DIR: the directory '$work/missing' does not exist" file_word_count "$work/missing"
if [ "$(grep -c "does not exist" "$work/err")" -ne 1 ]; then
  echo "FAIL: file_word_count did not say exactly once that the directory is missing"
  failures=$((failures + 1))
fi
expect 2 "DIR: '$work/a-file' is not a directory" file_word_count "$work/a-file"
expect 2 "DIR is required" file_word_count
expect 0 "Usage: file_word_count [OPTIONS] DIR" file_word_count --help

# sensor_windows takes no positional arguments.
expect 2 "not expected: 5" sensor_windows 5
expect 2 "--seed: expected a whole number from 0" sensor_windows --seed -1
expect 2 "--port: expected a whole number from 1 to 65535" sensor_windows --port 0
expect 2 "--host requires --port" sensor_windows --host localhost
expect 0 "Usage: sensor_windows" sensor_windows --help
# The applications of issue 16 (docs/applications.md).
expect 2 "--seed: expected a whole number from 0" replay --seed x
expect 0 "Usage: replay" replay --help
expect 2 "--kills: expected a whole number from 0" delivery_semantics --kills -1
expect 2 "--kills: at most 1 with --files 4" delivery_semantics --files 4 --kills 2
expect 2 "sometimes not in {at_most_once,at_least_once,exactly_once}" delivery_semantics --child sometimes
expect 0 "Usage: delivery_semantics" delivery_semantics --help

# stateful_recovery: a non-empty --dir and positive --seconds.
expect 2 "--seconds: expected a whole number from 1" stateful_recovery --seconds abc
expect 2 "--seconds: expected a whole number from 1" stateful_recovery --seconds -3
expect 2 "--dir: must not be empty" stateful_recovery --dir ""
expect 0 "Usage: stateful_recovery" stateful_recovery --help

# recommendations and risk_check: a seed from 0, an existing denylist file.
for program in recommendations risk_check; do
  expect 2 "--seed: expected a whole number from 0" $program --seed -1
  expect 2 "--dump-input: must not be empty" $program --dump-input ""
  expect 2 "not expected: extra" $program extra
  expect 0 "Usage: $program" $program --help
done
expect 2 "--denylist: File does not exist: $work/missing.csv" risk_check --denylist "$work/missing.csv"
for program in recommendations risk_check; do
  expect 2 "--port: expected a whole number from 1 to 65535, got '0'" $program --port 0
  expect 2 "--host requires --port" $program --host localhost
  expect 2 "--seconds requires --port" $program --seconds 3
done

# A good command line runs and stops by itself. "010" is ten rows per second (CLI11 alone would
# read it as octal 8): every full one-second batch counts 10.
expect 0 "Time: " rate_count --rows-per-second 010 --seconds 3
if ! grep -qx 10 "$work/out"; then
  echo "FAIL: rate_count --rows-per-second 010 printed no batch of 10 rows:"
  cat "$work/out"
  failures=$((failures + 1))
fi

# --status-port (every example): a port from 0 to 65535; with rill::ops built, the example
# serves its status page there (0: any free port) and says where on stderr.
expect 2 "--status-port: expected a whole number from 0 to 65535, got '70000'" \
  rate_count --status-port 70000
expect 2 "--status-port: expected a whole number from 0" stateful_recovery --status-port abc
rc=0
timeout 10 "$dir/rate_count" --seconds 2 --status-port 0 >"$work/out" 2>"$work/err" </dev/null || rc=$?
if grep -q "no ops component" "$work/err"; then
  echo "ok: rate_count --status-port 0 refused: this build has no rill::ops"
elif [ "$rc" -eq 0 ] && grep -q "status page: http://127.0.0.1:[0-9]*/" "$work/err"; then
  echo "ok: rate_count --status-port 0 served its status page and exited 0"
else
  echo "FAIL: rate_count --status-port 0 exited $rc"
  sed 's/^/  stderr: /' "$work/err" | head -20
  failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "every example rejects bad arguments with exit code 2 and a message, and --help exits 0"
