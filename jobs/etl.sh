#!/bin/sh
# One step of the etl-dag workflow; the step comes from the task's environment.
set -eu
step="${STEP:?STEP is not set}"
echo "etl ${step}: day ${DAY:-today}"
sleep 3
echo "etl ${step}: ok"
