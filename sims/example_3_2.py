"""Paper 000 Example 3.2 (Tables 3.4-3.6, Figs 3.3-3.5, Remark 3.5, Section 3.2.1's equal-time
comparison) at CPU scale: each topology trained pruned (Algorithm 1) and unpruned side by side over
seeds (``sims.paired_runs``: same initial weights, same batches), with the controls on the first
seeds of the same list: ``linear-output`` (no activation after the final layer, 000:text:3.2.5),
``he`` / ``xavier`` (E.2's initialisations, 000:text:3.2.2) and the mechanism controls of issue 23
item 3 (``hidden-only``, ``random-output-projection``, ``revive-dead-outputs``: topology a).

``OMP_NUM_THREADS=1 python -m sims.example_3_2 --topology a --seeds 15 --controls linear-output he
xavier --control-seeds 10 --threads 1 --json results/section3/ex3.2a.json`` reads the run cache
(``runs/section3``: a finished run is read back, a missing one trained and cached).  The Result keeps
the experiment name ``nets.section3.example_3_2`` (``RESULT_NAME``) of the older Results.

The verdicts are made by ``sims.example_3_2_verdicts`` (declarations, rules, Holm: ``core.protocol``)
from the Result's tables alone: ``recompute_verdicts`` rebuilds them from a stored Result, whose
table ``curves`` holds every run's per-epoch curves and table ``runs`` each cached run's commit and
CPU seconds.  The mechanism table (``sims.dead_output_analysis.mechanism_decisions``) splits the pairs
by a pre-treatment stratum and compares the controls with MP pruning seed by seed.

Reductions from the paper (stated in every Result's config and in each verdict's scale): widths /
``width_divisor``, ``n_train`` of the 60,000 training images, the seed counts.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.validate import InvalidArgument
from nets.configs import config_names, get_config
from sims import dead_output_analysis as dead_outputs
from sims import example_3_2_verdicts as rules
from sims import paired_runs as runs
from sims.experiment import RUNS_DIR, ExperimentRun, option

MODULE = "sims.example_3_2"
RESULT_NAME = "nets.section3.example_3_2"

TOPOLOGIES = ("a", "b", "c")

CONTROLS = ("linear-output", "he", "xavier", "hidden-only", "random-output-projection",
            "random-output-projection-rowspace", "revive-dead-outputs", "revive-never-predicted")
TOPOLOGY_A_ONLY = CONTROLS[1:]


@dataclass(frozen=True)
class Config:
    topology: str = option("a", "Example 3.2 topology", choices=TOPOLOGIES)
    seeds: int = option(5, "seeds of the main runs", lo=2, hi=1000)
    controls: tuple[str, ...] | None = option(
        None, "control configs (default: linear-output, and he/xavier for topology a)",
        choices=CONTROLS, optional=True)
    control_seeds: tuple[int, ...] = option((5,), "seeds of the controls: one count, or one per control",
                                            lo=2, hi=1000)
    width_divisor: int = option(10, "hidden widths / this", lo=1, hi=1000)
    n_train: int = option(10000, "training images (a seeded subset per seed)", lo=100, hi=60000)
    n_test: int | None = option(None, "test images (default all 10,000)", lo=1, hi=10000, optional=True)
    epochs: int | None = option(None, "override the paper's epochs (stated in the Result)", lo=1, hi=10000,
                                optional=True)
    scale: str = option("cpu", "cpu (the reductions above) or paper (widths and data as printed)",
                        choices=("cpu", "paper"))
    runs_dir: str | None = option(str(RUNS_DIR), "run cache (resumable); none: no checkpoints",
                                  optional=True)
    data_dir: str | None = option(None, "Fashion-MNIST IDX folder (default: nets.data's)", optional=True)

    def control_list(self) -> list[str]:
        if self.controls is None:
            return ["linear-output", "he", "xavier"] if self.topology == "a" else ["linear-output"]
        return list(self.controls)

    def control_counts(self) -> list[int]:
        controls, counts = self.control_list(), list(self.control_seeds)
        if not controls:
            return []
        if len(counts) == 1:
            return counts * len(controls)
        if len(counts) != len(controls):
            raise InvalidArgument(f"control_seeds must be one count or one per control ({len(controls)}), "
                                  f"got {counts}")
        return counts


def toy_config(tmp_path) -> Config:
    """Two seeds, 8 epochs (one pruning round at epoch 7), widths / 50, 300 images."""
    return Config(seeds=2, controls=("linear-output",), control_seeds=(2,), width_divisor=50, n_train=300,
                  n_test=300, epochs=8, runs_dir=str(tmp_path))


def run(config: Config = Config(), *, context: ExperimentRun | None = None):
    """Example 3.2 (one topology) pruned against unpruned, with its controls.  Returns a
    ``core.result.Result`` named ``RESULT_NAME``."""
    context = context or ExperimentRun(MODULE, config, experiment=RESULT_NAME)
    topology, controls, per_control = config.topology, config.control_list(), config.control_counts()
    for c in controls:
        if c in TOPOLOGY_A_ONLY and topology != "a":
            raise InvalidArgument(f"controls: {c!r} exists for topology 'a' only (config ex3.2a-{c})")
        control_config_name(topology, c)
    with context:
        return _run(config, context, topology, controls, per_control)


def _run(config, context, topology, controls, per_control):
    runs_dir, device = config.runs_dir, context.device

    def make(name):
        cfg = (get_config(name) if config.scale == "paper" else
               runs.cpu_config(name, width_divisor=config.width_divisor, n_train=config.n_train,
                               n_test=config.n_test))
        if config.epochs is not None:
            cfg.cpu_changes["epochs"] = [cfg.epochs, config.epochs]
            cfg.epochs = config.epochs
        return cfg

    main = make(f"ex3.2{topology}")
    first = main.pruning["every"]
    arms = [(main, list(range(config.seeds)), "paper (final ReLU, N(0, 1/N) init)")]
    for c, k in zip(controls, per_control):
        arms.append((make(control_config_name(topology, c)), list(range(k)), f"control {c}"))
    rows, records, events, equal_time, identical = [], [], [], [], []
    # seed-major, so that each seed's data subset is decoded once for all configs
    trained = {}
    for seed in sorted({s for _, seeds_, _ in arms for s in seeds_}):
        for cfg, seed_list, _ in arms:
            if seed in seed_list:
                trained[(cfg.name, seed)] = runs.collect_pairs(cfg, [seed], runs_dir=runs_dir, device=device,
                                                               data_dir=config.data_dir)[seed]
    for cfg, seed_list, _ in arms:
        for seed in seed_list:
            p, u = trained[(cfg.name, seed)]
            stratum = dead_outputs.stratum_at(u, first)
            for run in (p, u):
                rows.append({**runs.run_row(cfg, seed, run), dead_outputs.STRATUM: stratum, **run_provenance(run)})
            records += runs.epoch_records(cfg, seed, p) + runs.epoch_records(cfg, seed, u)
            events += runs.event_rows(cfg, seed, p, u)
            equal_time.append(runs.equal_time_row(cfg, seed, p, u))
            identical.append({"config": cfg.name, "seed": seed,
                              "identical_until_first_pruning": runs.identical_until_first_event(p, u)})
    keys = ("final_test_accuracy", "final_train_accuracy", "final_train_loss", "final_test_loss",
            "final_test_loss_sum_batches", "final_parameters", "parameter_reduction",
            "final_dead_outputs", "final_test_accuracy_live_classes", "final_classes_never_predicted",
            "final_test_accuracy_predicted_classes", "final_dead_hidden_units", "time_s")
    paired = runs.paired_table(rows, keys)
    scale = scale_text(config, config.seeds)
    control_scales = {cfg.name: scale_text(config, len(seeds_)) for cfg, seeds_, _ in arms[1:]}
    curves = wide_curves(records)
    V = rules.verdicts(topology, main.name, first, main.epochs, [(c.name, lab) for c, _, lab in arms[1:]], rows,
                       long_curves(curves), events, equal_time, scale, control_scales)
    mech_controls = {cfg.name: c for (cfg, _, _), c in zip(arms[1:], controls) if c in dead_outputs.MECHANISM_CONTROLS}
    mechanism = dead_outputs.mechanism_decisions(rows, main.name, mech_controls)
    paper = get_config(main.name)
    seeds, n_test, epochs = config.seeds, config.n_test, config.epochs
    cfg_out = {"topology": topology, "seeds": seeds, "controls": controls, "control_seeds": per_control,
               "scale": runs.scale_description(main), "paper_topology": paper.model["topology"],
               "scale_words": scale, "control_scale_words": control_scales,
               "first_pruning_round_epoch": first,
               "declarations": {k: d.to_dict() for k, d in rules.DECLARATIONS.items()},
               "mechanism_declarations": {k: d.to_dict() for k, d in dead_outputs.MECHANISM_FAMILIES.items()},
               "mechanism_summary": dead_outputs.mechanism_summary(mechanism),
               "mechanism_stratum_agreement": dead_outputs.stratum_agreement(rows, main.name, list(mech_controls)),
               "cached_runs": cached_runs_summary(rows),
               "reductions_from_the_issue": ([] if config.scale == "paper" else [
                   f"widths divided by {config.width_divisor} (paper {paper.model['topology']})",
                   f"{config.n_train} of the 60,000 training images (seeded subset per seed), "
                   f"{n_test or 10000} of the 10,000 test images"]) + [
                   *([f"epochs {epochs} instead of {paper.epochs}"] if epochs is not None else []),
                   f"{seeds} seeds (paper: 10, E.6)"
                   + (f"; controls on {list(per_control)}" if controls else ""),
                   "Fig 3.5's before/after accuracy is the test accuracy (the training accuracy after a "
                   "pruning round would need another pass over the training set)"],
               "test_loss_definitions": {
                   "final_test_loss": "mean cross-entropy per test image",
                   "final_test_loss_sum_batches": "sum over the 79 consecutive batches of 128 test images of "
                                                  "the batch-mean cross-entropy (a reading of Table 3.6's 42-150)"},
               "runs_dir": str(runs_dir)}
    # records: the seed bands per epoch (Figs 3.3/3.4); table 'curves': every seed's curves, from
    # which the bands, the curve verdicts and Fig 3.5 regenerate without the run cache
    return context.result(config=cfg_out, records=runs.curve_table(records, runs.CURVE_KEYS), verdicts=V,
                          tables={"runs": rows, "paired": paired, "events": events, "equal_time": equal_time,
                                  "mechanism": mechanism,
                                  "dead_outputs": dead_outputs.mechanism_table(rows, events),
                                  "identical_start": identical, "curves": curves})


def scale_text(config: Config, seeds: int) -> str:
    """The scale in the declarations' words ("widths/10, 10,000 of 60,000 training images, 15 paired
    seeds"); "paper" at the paper's widths and data."""
    if config.scale == "paper" and config.epochs is None:
        return "paper"
    parts = ([] if config.scale == "paper" else
             [f"widths/{config.width_divisor}", f"{config.n_train:,} of 60,000 training images"]
             + ([f"{config.n_test:,} of 10,000 test images"] if config.n_test not in (None, 10000) else []))
    if config.epochs is not None:
        parts.append(f"{config.epochs} epochs")
    return ", ".join(parts + [f"{seeds} paired seeds"])


def control_config_name(topology: str, control: str) -> str:
    name = f"ex3.2{topology}-{control}"
    if name not in config_names():
        raise InvalidArgument(f"controls: no config {name!r} (controls of topology {topology!r}: "
                              f"{[c for c in CONTROLS if f'ex3.2{topology}-{c}' in config_names()]})")
    return name


def run_provenance(run) -> dict:
    """What trained one cached run: the commits (and dirty flags) its epoch rows record, and its CPU
    and wall seconds (rows written before the commit was recorded count as unknown)."""
    ms = run.metrics
    commits = sorted({m.get("git_commit") or "unknown" for m in ms})
    cpu = [m.get("cpu_time_s") for m in ms]
    return {"git_commits": " ".join(c[:12] for c in commits),
            "git_dirty": any(bool(m.get("git_dirty")) for m in ms),
            "cpu_s": round(sum(cpu), 3) if all(c is not None for c in cpu) else None,
            "epochs_without_cpu_time": sum(c is None for c in cpu)}


def cached_runs_summary(rows: list[dict]) -> dict:
    commits: dict = {}
    for r in rows:
        for c in r["git_commits"].split():
            commits[c] = commits.get(c, 0) + 1
    cpu = [r["cpu_s"] for r in rows if r["cpu_s"] is not None]
    return {"runs": len(rows), "runs_per_commit": commits, "any_dirty": any(r["git_dirty"] for r in rows),
            "cpu_s_total": round(sum(cpu), 1), "runs_without_cpu_time": len(rows) - len(cpu),
            "note": "per-run commits and CPU seconds: table 'runs' (git_commits, git_dirty, cpu_s)"}


CURVE_QUANTITIES = ("test_accuracy", "test_accuracy_after_callbacks", "train_accuracy", "classes_never_predicted",
                    "elapsed_s")


def wide_curves(records: list[dict]) -> list[dict]:
    """Every run's per-epoch curves, one row per (config, seed, run, quantity) with columns e1..eN:
    what Figs 3.3-3.5, their intervals, the equal-time comparison and the pre-treatment stratum need
    (the after-callbacks accuracy only for the pruned run: unpruned it equals the accuracy)."""
    runs_: dict = {}
    for r in records:
        runs_.setdefault((r["config"], r["seed"], r["run"]), []).append(r)
    out = []
    for (name, seed, run), rr in runs_.items():
        rr = sorted(rr, key=lambda r: r["epoch"])
        for q in CURVE_QUANTITIES:
            if q == "test_accuracy_after_callbacks" and run != "pruned":
                continue
            row = {"config": name, "seed": seed, "run": run, "quantity": q}
            for r in rr:
                v = r.get(q)
                row[f"e{r['epoch']}"] = None if v is None else round(v, 3) if q == "elapsed_s" else v
            out.append(row)
    return out


def long_curves(curves: list[dict]) -> list[dict]:
    """The per-epoch records back from ``wide_curves`` (one dict per config, seed, run, epoch)."""
    out: dict = {}
    for row in curves:
        for k, v in row.items():
            if k.startswith("e") and k[1:].isdigit():
                rec = out.setdefault((row["config"], row["seed"], row["run"], int(k[1:])),
                                     {"config": row["config"], "seed": row["seed"], "run": row["run"],
                                      "epoch": int(k[1:])})
                rec[row["quantity"]] = v
    return [out[k] for k in sorted(out, key=lambda k: (k[0], k[1], k[2], k[3]))]


def recompute_verdicts(result) -> list:
    """The verdicts of a stored ex3.2 Result from its committed tables alone (no run cache)."""
    c, t = result.config, result.tables
    main = f"ex3.2{c['topology']}"
    controls = [(f"{main}-{k}", f"control {k}") for k in c["controls"]]
    return rules.verdicts(c["topology"], main, c["first_pruning_round_epoch"], c["scale"]["epochs"], controls,
                          t["runs"], long_curves(t["curves"]), t["events"], t["equal_time"], c["scale_words"],
                          c["control_scale_words"])


def redecide_file(path) -> None:
    """Make the verdicts of the ex3.2 Result stored at ``path`` again from its committed tables
    (``recompute_verdicts``: measurements and the measuring run's provenance unchanged, the
    re-decision recorded by ``core.result.redecided``): ``python -c "from sims.example_3_2 import
    redecide_file; redecide_file('results/section3/ex3.2a.json')"``.  The run cache of the measuring
    run is not needed."""
    from core.result import read_result, redecided, write_result
    stored = read_result(path)
    write_result(redecided(stored, "sims.example_3_2.recompute_verdicts", recompute_verdicts(stored)), path)


if __name__ == "__main__":
    import sys

    from sims.experiment import cli_main
    sys.exit(cli_main(MODULE))
