#!/usr/bin/env bash
# two queues, one per core; run from this directory with the dev venv active
export OMP_NUM_THREADS=1
S=../etth1-step-schedule-20261123/tune_schedule.py
C=("--dropout 0.5 --val_every_steps 2 --epochs 1" "--dropout 0.75 --val_every_steps 2 --epochs 1" "--dropout 0.25 --val_every_steps 2 --epochs 2 --warmup 1")
( for a in "${C[@]}"; do python $S --h 24 $a --lr 2e-3 --schedule step 2>/dev/null | grep RESULT; done > q1.log ) &
( for a in "${C[@]}"; do python $S --h 48 $a --lr 2e-3 --schedule step 2>/dev/null | grep RESULT; done > q2.log ) &
wait
