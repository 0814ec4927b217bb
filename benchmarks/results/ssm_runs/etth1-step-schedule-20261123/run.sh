#!/usr/bin/env bash
# two queues, one per core
export OMP_NUM_THREADS=1
P=/work/venv/bin/python
( for a in "--h 24 --lr 1e-3" "--h 24 --lr 1e-3 --schedule step" "--h 24 --lr 2e-3 --schedule step"; do
    $P tune_schedule.py $a --epochs 1 --val_every_steps 5 2>/dev/null | grep RESULT; done > q1.log ) &
( for a in "--h 48 --lr 1e-3" "--h 48 --lr 1e-3 --schedule step" "--h 48 --lr 2e-3 --schedule step"; do
    $P tune_schedule.py $a --epochs 1 --val_every_steps 5 2>/dev/null | grep RESULT; done > q2.log ) &
wait
