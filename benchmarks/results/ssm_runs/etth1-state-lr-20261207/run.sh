#!/usr/bin/env bash
# two queues, one per core; run from this directory with the dev venv active
export OMP_NUM_THREADS=1
S=../etth1-step-schedule-20261123/tune_schedule.py
C=("--lr 1e-3 --val_every_steps 2" "--lr 2e-3 --val_every_steps 5 --d_state 128" "--lr 2e-3 --val_every_steps 2 --d_state 128")
( for a in "${C[@]}"; do python $S --h 24 $a --schedule step --epochs 1 2>/dev/null | grep RESULT; done > q1.log ) &
( for a in "${C[@]}"; do python $S --h 48 $a --schedule step --epochs 1 2>/dev/null | grep RESULT; done > q2.log ) &
wait
