#!/usr/bin/env bash
# The acceptance check of network_word_count: started before its server, with stdout a file,
# it prints (a,2) and (b,2) under a `Time:` header for a server that sends "a b a\nb\n", and
# what it printed stays in the file after kill -9.
set -euo pipefail
example=$1
work=$(mktemp -d)
trap 'kill -9 $client $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(( 20000 + RANDOM % 20000 ))

"$example" 127.0.0.1 "$port" >"$work/out.txt" 2>"$work/err.txt" &
client=$!
sleep 0.5  # the client starts first and retries
{ printf 'a b a\nb\n'; sleep 5; } | nc -l 127.0.0.1 "$port" &
server=$!

for _ in $(seq 1 150); do
  grep -q '^(b,2)$' "$work/out.txt" && break
  sleep 0.1
done
kill -9 "$client"
wait "$client" 2>/dev/null || true

if ! grep -q '^(a,2)$' "$work/out.txt" || ! grep -q '^(b,2)$' "$work/out.txt"; then
  echo "network_word_count did not print (a,2) and (b,2):"
  cat "$work/out.txt" "$work/err.txt"
  exit 1
fi
# The counts sit in a block under a Time: header and its dashed lines.
awk '/^Time: /{t=NR} /^\(a,2\)$/{if (t && NR > t) ok=1} END{exit ok ? 0 : 1}' "$work/out.txt" || {
  echo "no Time: header above the counts:"; cat "$work/out.txt"; exit 1; }
echo "network_word_count printed (a,2) and (b,2) under a Time: header"
