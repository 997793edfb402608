#!/bin/sh
# The partner-sync schedule's job: PARTNER_TOKEN comes from Secrets Manager (the secret
# batchron/<stage>/partner-api, JSON key `token`), injected when the job starts. It is used,
# never printed: only its length shows that it arrived.
set -eu
token="${PARTNER_TOKEN:?PARTNER_TOKEN is not set (the job definition's secrets)}"
echo "partner-sync: authenticating with PARTNER_TOKEN (${#token} characters, not shown)"
sleep 1
echo "partner-sync: ok"
