#!/bin/sh
# Always fails with exit code 3 (the code its schedule retries on), so the run fails after
# its last attempt, runs its on-failure cleanup and sends one Slack message.
echo "connecting to the warehouse..."
echo "error: warehouse unreachable (connection refused)" >&2
exit 3
