#!/usr/bin/env bash
# Paper 000 Example 3.2 at paper scale on the CPU (issue 22, item 2): for each seed, the pruned and
# the unpruned run of one topology side by side, one torch thread each, niced, checkpointed every
# epoch under runs/paper_scale/ (not committed).  Rerunning the script resumes every unfinished run
# from its last checkpoint and skips finished ones; a finished run writes its Result to
# results/section3/paper_scale_cpu/<topology>/seed<S>_<arm>.json (nets.train's Result: per-epoch
# metrics, pruning events, provenance with device, threads and wall time).
#
#   bash scripts/paper_scale_cpu.sh [TOPOLOGY] [SEED ...]      (default: a 0 1 2)
#   bash scripts/paper_scale_cpu.sh status                      (epochs done, step time, finish)
#   bash scripts/paper_scale_cpu.sh snapshot                    (the per-epoch metrics of unfinished
#        runs as results/section3/paper_scale_cpu/<config>/in_flight.csv: progress, not a Result)
#
# Same seed => identical initial weights and batch order in both arms (nets.train's docstring).
set -euo pipefail
cd "$(dirname "$0")/.."
status() {  # per run: epochs done, the last epoch's CPU (or wall) seconds, the estimated finish
  .venv/bin/python - <<'PY'
import json, pathlib, datetime
for m in sorted(pathlib.Path("runs/paper_scale").glob("*/seed*/*/metrics.json")):
    d = json.loads(m.read_text()); e = d["epochs"]; last = e[-1] if e else {}
    total = 70  # Example 3.2: 70 epochs (Section 3.2.1, E.6)
    step = last.get("train_time_s", 0) + last.get("callback_time_s", 0)  # wall: what the finish depends on
    left = (total - len(e)) * step
    eta = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=left)
    print(f"{m.parent}: {len(e)}/{total} epochs, last epoch {step:.0f} s, "
          f"(CPU {last.get('cpu_time_s', float('nan')):.0f} s), ~{left / 60:.0f} min left at that wall rate (finish ~{eta:%d %b %H:%M} UTC)")
PY
}
snapshot() {
  .venv/bin/python - <<'PY'
import csv, json, pathlib
KEYS = ("epoch", "test_accuracy", "test_accuracy_after_callbacks", "train_accuracy", "train_loss",
        "test_loss_sum_batches", "parameters", "classes_never_predicted", "dead_outputs",
        "train_time_s", "callback_time_s", "cpu_time_s")
for config in sorted(pathlib.Path("runs/paper_scale").glob("*")):
    rows = []
    for m in sorted(config.glob("seed*/*/metrics.json")):
        seed, arm = m.parent.parent.name.removeprefix("seed"), m.parent.name
        done = pathlib.Path(f"results/section3/paper_scale_cpu/{config.name}/seed{seed}_{arm}.json")
        if done.exists():
            continue  # finished: its Result holds the curves
        for e in json.loads(m.read_text())["epochs"]:
            # dead_units per ReLU; the last ReLU is the output layer's (its dead units: dead_outputs)
            relus = sorted((k for k in e["dead_units"]), key=lambda k: int(k.removeprefix("act")))
            rows.append({"seed": seed, "arm": arm, **{k: e.get(k) for k in KEYS},
                         "dead_hidden_units": sum(e["dead_units"][k] for k in relus[:-1])})
    out = pathlib.Path(f"results/section3/paper_scale_cpu/{config.name}/in_flight.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        with out.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
        print(f"wrote {out}: {len(rows)} epoch rows of unfinished runs")
    elif out.exists():
        out.unlink(); print(f"removed {out}: no unfinished run")
PY
}
[ "${1:-}" = status ] && { status; exit 0; }
[ "${1:-}" = snapshot ] && { snapshot; exit 0; }
topology=${1:-a}; shift || true
seeds=("${@:-0 1 2}"); [ $# -eq 0 ] && seeds=(0 1 2)
py=.venv/bin/python
results=results/section3/paper_scale_cpu/ex3.2$topology
mkdir -p "$results"
run_arm() {  # seed arm
  local seed=$1 arm=$2 out=runs/paper_scale/ex3.2$topology/seed$1/$2 json=$results/seed$1_$2.json
  [ -f "$json" ] && { echo "seed $seed $arm: done ($json)"; return 0; }
  local flags=(ex3.2$topology --scale paper --seed "$seed" --threads 1 --quiet --out "$out" --json "$json")
  [ "$arm" = unpruned ] && flags+=(--no-prune)
  [ -f "$out/checkpoint.pt" ] && flags+=(--resume)
  mkdir -p "$(dirname "$out")"
  echo "seed $seed $arm: start $(date -u +%FT%TZ) ${flags[*]}"
  OMP_NUM_THREADS=1 nice -n 5 "$py" -m nets.train "${flags[@]}" > "runs/paper_scale/ex3.2$topology/seed$seed/$arm.log" 2>&1
  echo "seed $seed $arm: finished $(date -u +%FT%TZ)"
}
status
# Two slots, one per core, fed in seed order: the pruned arm shrinks after its first round and
# finishes first, and the next run takes its core at once instead of the core idling until the
# unpruned arm of the same seed is done.
export -f run_arm; export topology py results
for seed in "${seeds[@]}"; do printf '%s pruned\n%s unpruned\n' "$seed" "$seed"; done |
  xargs -P 2 -L 1 bash -c 'run_arm "$0" "$1"'
