#!/bin/sh
# The every-minute heartbeat: a couple of seconds of "work".
set -eu
echo "hello from job ${AWS_BATCH_JOB_ID:-local} at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
sleep 2
echo "done"
