#!/usr/bin/env bash
# kafka_word_count --mock: counts its bundled text in an in-process mock cluster under
# Trigger::available_now and exits by itself; the counts of its three most frequent words.
set -euo pipefail
example=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! timeout 30 "$example" --mock >"$work/out.txt" 2>"$work/err.txt"; then
  echo "kafka_word_count --mock failed or did not stop:"
  cat "$work/out.txt" "$work/err.txt"
  exit 1
fi
for pair in '(the,3)' '(dog,3)' '(a,4)' '(fox,2)'; do
  if ! grep -qxF "$pair" "$work/out.txt"; then
    echo "kafka_word_count --mock did not print $pair:"
    cat "$work/out.txt"
    exit 1
  fi
done
echo "kafka_word_count --mock counted its bundled text"
