#!/bin/sh
# Outlasts its one-minute period, so the overlap policy (`skip`) decides the next fires.
set -eu
seconds="${SLEEP_SECONDS:-90}"
echo "working for ${seconds}s"
sleep "$seconds"
echo "finished"
