#!/bin/sh
# On-failure task of always-fails: runs once when that run fails for good.
set -eu
echo "cleaning up after a failed run of ${BATCHRON_SCHEDULE:-always-fails}"
sleep 1
echo "cleanup done"
