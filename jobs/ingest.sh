#!/bin/sh
# The on-upload schedule's job: the keys of the files uploaded in one 10-second batch window
# arrive as a JSON array in KEYS (one run per window; each key in exactly one run).
set -eu
keys="${KEYS:?KEYS is not set}"
count=$(printf '%s' "$keys" | tr ',' '\n' | grep -c '"' || true)
echo "ingest: ${count} file(s) in this batch"
printf '%s\n' "$keys" | tr -d '[]' | tr ',' '\n' | sed 's/^ *"//; s/"$//; s/^/ingest: /'
sleep 1
echo "ingest: ok"
