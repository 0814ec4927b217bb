#!/usr/bin/env bash
# two queues, one per core; run from this directory with the dev venv active
export OMP_NUM_THREADS=1
S=../etth1-step-schedule-20261123/tune_schedule.py
( for a in "--h 24 --dropout 0.5 --val_every_steps 5" "--h 24 --dropout 0.25 --val_every_steps 2"; do
    python $S $a --lr 2e-3 --schedule step --epochs 1 2>/dev/null | grep RESULT; done > q1.log ) &
( for a in "--h 48 --dropout 0.5 --val_every_steps 5" "--h 48 --dropout 0.25 --val_every_steps 2"; do
    python $S $a --lr 2e-3 --schedule step --epochs 1 2>/dev/null | grep RESULT; done > q2.log ) &
wait
