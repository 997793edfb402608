#!/bin/sh
# Fails its first attempt and succeeds on the next, as a job with a flaky dependency would.
# The attempt number comes from BATCHRON_ATTEMPT when the engine sets it; otherwise a state
# file under .batchron/ alternates fail / succeed (locally, jobs run in the project folder).
set -eu
if [ -n "${BATCHRON_ATTEMPT:-}" ]; then
  if [ "$BATCHRON_ATTEMPT" -le 1 ]; then
    echo "attempt ${BATCHRON_ATTEMPT}: upstream timed out" >&2
    exit 1
  fi
  echo "attempt ${BATCHRON_ATTEMPT}: ok"
  exit 0
fi
state=".batchron/jobs/flaky.failed-once"
mkdir -p "$(dirname "$state")"
if [ -f "$state" ]; then
  rm -f "$state"
  echo "second attempt: ok"
  exit 0
fi
touch "$state"
echo "first attempt: upstream timed out" >&2
exit 1
