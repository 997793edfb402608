#!/bin/sh
# The nightly report (02:00 Asia/Tokyo).
set -eu
echo "building the nightly report for $(TZ=Asia/Tokyo date +%Y-%m-%d) (Asia/Tokyo)"
sleep 3
echo "report ready"
