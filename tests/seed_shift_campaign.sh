#!/bin/bash
# Issue 10 seed-shift campaign: the default suite at every shift K_FROM..K_TO (every integer seed the
# tests hand to numpy or torch moved by 1000*K, tests/seed_shift.py), one run after another,
# single-threaded; resumable (a finished shift is skipped).  Writes OUTDIR/table.txt with rows
# "shift|exit status|seconds|pytest summary" and OUTDIR/failed_K.txt.
# Usage: bash tests/seed_shift_campaign.sh OUTDIR [K_FROM [K_TO]]     (default 0 20)
set -u
out=$(realpath -m "$1"); from=${2:-0}; to=${3:-20}
mkdir -p "$out"
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
git log --oneline -1 > "$out/commit.txt"
for k in $(seq "$from" "$to"); do
  [ -f "$out/done_$k" ] && continue
  t0=$(date +%s)
  .venv/bin/python -m pytest -q -p no:cacheprovider -rf --seed-shift "$k" > "$out/shift_$k.log" 2>&1
  rc=$?
  echo "$k|$rc|$(( $(date +%s) - t0 ))|$(tail -1 "$out/shift_$k.log")" >> "$out/table.txt"
  grep "^FAILED" "$out/shift_$k.log" | sed 's/ - .*//' > "$out/failed_$k.txt"
  touch "$out/done_$k"
done
