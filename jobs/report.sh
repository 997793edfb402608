#!/bin/sh
# The nightly report (02:00 Asia/Tokyo), and the daily report for REPORT_DAY once etl-dag
# has succeeded for that day (the daily-report schedule).
set -eu
if [ -n "${REPORT_DAY:-}" ]; then
  echo "building the daily report for $REPORT_DAY"
else
  echo "building the nightly report for $(TZ=Asia/Tokyo date +%Y-%m-%d) (Asia/Tokyo)"
fi
sleep 3
echo "report ready"
