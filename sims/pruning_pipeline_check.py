"""Lemma 4.1 and Theorem 4.1 of paper 000 at the pruning events of real training runs (nets/).

``python -m sims.pruning_pipeline_check [--config e4-classification ex3.2a] [--quick] [--epochs E]
[--hidden H] [--seed S] [--device D] [--json PATH]`` (the fields of ``Config``); the committed result
is ``results/pruning_pipeline_check.json``.

The E.4 network of Example 4.1 ([2, 500, 2], ReLU) has no layer MP pruning can act on (its two
matrices are 500 x 2 and 2 x 500; nets.algorithms leaves them alone), so the E.4 problem is trained
with a second hidden layer, ``[2, H, H, 2]`` (default H = 500, ReLU hidden layers, 120 epochs),
a linear head, pruned by Algorithm 1 (split frequency 7, schedule (3.6), GoF tau 0.7;
nets.algorithms).  ``ex3.2a`` is the cpu-scale Fashion-MNIST network of Example 3.2 (nets.configs),
21 epochs (three pruning rounds).  At every pruning event the network just before and just after
the event is read into ``theory.pruning_bounds.Network`` (float64) and, per test input s:

* the actual change |delta X(s, W) - delta X(s, W')| against Lemma 4.1 (4.4), with the threshold
  sqrt(lambda+ N) that nets.algorithms used for each changed layer (the sum of the single-layer
  bounds when several layers change at once, ``lemma_4_1_bound_all_layers``).  It must never be
  exceeded; we also check that the removed part has norm <= threshold (the lemma's premise).
* Theorem 4.1's E' (4.18) with f_W estimated from the kept singular values through the inverse
  spiked map (``theory.spiked.theta_from_singular_value``, then (B.6) through
  ``theory.approximation``), everything rescaled by sqrt(sigma^2 N) (BEMA's sigma^2, N = the
  larger dimension) because the layer is not normalised to variance 1/N; eps = 0.
  When several layers change in one event (Algorithm 1 prunes them all), E' is summed over
  them, by analogy with the (proven) sum of Lemma 4.1 bounds; Theorem 4.1 itself is single-layer.
* the fraction of the test set certified (delta X(W) >= bound) by each, against the actual
  accuracy change and the inputs that actually flipped.

Fig. 4.1 (histogram of delta X on the test set with the thresholds of the last event) is drawn by
``figures.fig_pruning_theorem`` from the histograms stored in the result.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from core import protocol as P
from core.cli import progress
from core.result import Result, Verdict
from core.validate import InvalidArgument
from theory import approximation as approx
from theory import approximation_symbolic as approx_sym
from theory import pruning_bounds as pb
from theory import spiked
from sims.experiment import ExperimentRun, cli_main, option

MODULE = "sims.pruning_pipeline_check"
CONFIGS = ("e4-classification", "ex3.2a")
REL_SLACK = 1e-5   # float32 weights: factor products differ from the dense matrix at ~1e-7
HIST_BINS = 60
LEMMA_4_1, THEOREM_4_1 = "000:lemma:4.1", "000:theorem:4.1"


@dataclass(frozen=True)
class Config:
    """``config``: the training problems (``--config``, see the module docstring); ``epochs`` /
    ``hidden``: None takes each problem's default (``quick`` makes them small).  The device is the
    run's (``--device``), not the config's."""
    config: tuple[str, ...] = option(CONFIGS, "training problems (default both)", choices=CONFIGS)
    seed: int = option(0, "seed of the data and the training", lo=0)
    epochs: int | None = option(None, "epochs per problem (default: 120 for e4-classification, 21 for "
                                      "ex3.2a; --quick: 21 and 7)", lo=1, hi=10_000, optional=True)
    hidden: int | None = option(None, "hidden width H of the E.4 network [2, H, H, 2] (default 500; "
                                      "--quick: 128)", lo=2, hi=20_000, optional=True)
    quick: bool = option(False, "small sizes (2,000 Fashion-MNIST images for ex3.2a)")


def toy_config(tmp_path=None) -> Config:
    """Seconds on one core: the E.4 problem, [2, 24, 24, 2], 8 epochs (one pruning round at 7)."""
    return Config(config=("e4-classification",), epochs=8, hidden=24, quick=True)


def recorded_config(config: Config, device) -> dict:
    """The Result's config (the keys it has always had: ``configs`` is the ``--config`` list)."""
    return dict(configs=tuple(config.config), seed=config.seed, epochs=config.epochs, hidden=config.hidden,
                quick=config.quick, device=str(device))


def network_from_model(model) -> pb.Network:
    """The FullyConnectedNet as a numpy Network (weights via nets.layers.weight_matrix, so
    factorised layers give their product)."""
    from nets.layers import weight_matrix
    acts = list(model.activations)
    hidden = set(acts[:-1]) or {acts[-1]}
    if len(hidden) != 1:
        raise ValueError(f"mixed hidden activations {acts} are not supported")
    act = hidden.pop()
    final = acts[-1]
    if final not in (act, "none"):
        raise ValueError(f"final activation {final!r} must be {act!r} or 'none'")
    weights, biases = [], []
    for i in range(1, len(model.topology)):
        layer = model.layers[i * 2 - 2]
        weights.append(weight_matrix(layer).double().cpu().numpy().copy())  # no aliasing
        bias = layer.bias
        biases.append(None if bias is None else bias.detach().double().cpu().numpy().copy())
    return pb.Network(tuple(weights), tuple(biases), act, final == act)


def f_W_estimate(W: np.ndarray, sigma2: float, threshold: float) -> float | None:
    """f_W of (B.6) estimated from the singular values of W above the threshold: normalise to
    unit-variance-over-N noise (divide by sqrt(sigma2 N), N = larger dimension, ratio c = M/N
    <= 1), invert the spiked map (A.3) for theta_i, evaluate (B.6), scale back.  None when no
    singular value exceeds both the threshold and the bulk edge."""
    N, M = max(W.shape), min(W.shape)
    c = M / N
    scale = math.sqrt(sigma2 * N)
    sv = np.linalg.svd(W, compute_uv=False) / scale
    out = sv[(sv * scale > threshold) & (sv > spiked.edge(c))]
    if out.size == 0:
        return None
    theta = np.atleast_1d(spiked.theta_from_singular_value(out, c))
    g_sigma, g_u, g_v = approx_sym.spike_limits(theta, c)
    return scale * approx.f_W_general_B6(g_sigma, g_u, g_v, theta)


def _rank(W: np.ndarray) -> int:
    """Numerical rank at float32 resolution (factor products carry ~1e-7 relative residue)."""
    s = np.linalg.svd(W, compute_uv=False)
    return int(np.sum(s > 1e-5 * s[0])) if s.size and s[0] > 0 else 0


def analyse_event(before: pb.Network, after: pb.Network, events: list, inputs: np.ndarray,
                  labels: np.ndarray, epoch: int) -> dict:
    dX0 = pb.classification_confidence(before.forward(inputs), labels)
    dX1 = pb.classification_confidence(after.forward(inputs), labels)
    actual = np.abs(dX0 - dX1)
    by_name = {ev.layer: ev for ev in events if ev.sv_threshold is not None}   # nets.prune.PruneEvent
    thresholds, removed, Eprime, premise_ok, layers = {}, {}, 0.0, True, []
    thresholds_of_X = {}   # sqrt(lambda+) of X = W^T W / N: the wrong unit for (4.4)
    for b in range(1, before.depth + 1):
        W, Wp = before.weights[b - 1], after.weights[b - 1]
        diff = np.linalg.norm(W - Wp, 2)
        if diff <= REL_SLACK * np.linalg.norm(W, 2):
            continue
        ev = by_name.get(f"layers.fc{b}")
        if ev is None:
            raise RuntimeError(f"layer {b} changed at epoch {epoch} without a pruning event")
        tau = float(ev.sv_threshold)
        thresholds[b], removed[b] = tau, float(diff)
        if ev.lambda_plus is not None:
            thresholds_of_X[b] = math.sqrt(float(ev.lambda_plus))
        premise_ok &= diff <= tau * (1 + REL_SLACK)
        f_W = f_W_estimate(W, float(ev.sigma2), tau)
        N = max(W.shape)
        scale = math.sqrt(float(ev.sigma2) * N)
        g = pb.g_phi(before, inputs, b)
        h = pb.h_phi(before, inputs, b)
        # no spike above the edge: f_W is undefined, and tau >= min{f_W, sqrt(lambda+)} is the
        # largest value (4.18) can take, so using it can only raise E' (fewer inputs certified)
        Eprime = Eprime + (math.sqrt(2) * min(f_W if f_W is not None else tau, tau) * g
                           + pb.a_N(N) * scale * h)
        layers.append(dict(b=b, shape=list(W.shape), threshold=tau, removed_norm=float(diff),
                           f_W=f_W, rank_before=_rank(W), rank_after=_rank(Wp)))
    if not thresholds:
        return dict(epoch=epoch, changed=False)
    bound = pb.lemma_4_1_bound_all_layers(before, inputs, thresholds)
    tight = pb.lemma_4_1_bound_all_layers(before, inputs, removed)
    flipped = (dX0 > 0) != (dX1 > 0)
    wrong_unit = (int(np.sum(actual > pb.lemma_4_1_bound_all_layers(before, inputs, thresholds_of_X)))
                  if len(thresholds_of_X) == len(thresholds) else None)
    cert41 = dX0 >= bound
    certE = dX0 >= Eprime
    return dict(
        epoch=epoch, changed=True, layers=layers, n_test=int(len(labels)),
        violations=int(np.sum(actual > bound * (1 + REL_SLACK))),
        violations_tight=int(np.sum(actual > tight * (1 + REL_SLACK))),
        premise_ok=bool(premise_ok),
        violations_if_sqrt_lambda_plus_of_X=wrong_unit,
        median_ratio=float(np.median(bound[actual > 0] / actual[actual > 0])) if np.any(actual > 0) else None,
        max_actual_over_bound=float(np.max(actual / bound)),
        acc_before=pb.accuracy(dX0), acc_after=pb.accuracy(dX1),
        flipped=int(flipped.sum()),
        certified_lemma_4_1=float(cert41.mean()), certified_E_prime=float(certE.mean()),
        certified_but_flipped_lemma=int(np.sum(cert41 & flipped)),
        certified_but_flipped_E_prime=int(np.sum(certE & flipped)),
        median_bound=float(np.median(bound)), median_E_prime=float(np.median(Eprime)),
        median_abs_dX=float(np.median(np.abs(dX0))),
        dX_before=dX0, bound=bound, E_prime=np.broadcast_to(Eprime, dX0.shape).copy(), actual=actual)


class RecordingCallback:
    """Wraps nets.algorithms.MPPruningCallback: snapshots the network around each pruning round."""

    def __init__(self, inner, inputs: np.ndarray, labels: np.ndarray):
        self.inner, self.inputs, self.labels = inner, inputs, labels
        self.records: list[dict] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def on_epoch_end(self, model, epoch):
        if not self.inner.due(epoch):
            return self.inner.on_epoch_end(model, epoch)
        before = network_from_model(model)
        events = self.inner.on_epoch_end(model, epoch)
        after = network_from_model(model)
        self.records.append(analyse_event(before, after, events or [], self.inputs, self.labels, epoch))
        return events


def train_and_record(config: str, cfg: Config, device) -> dict:
    """Train one problem with Algorithm 1 and analyse every pruning event."""
    from nets.configs import get_config, schedule_callable
    from nets.algorithms import MPPruningCallback
    from nets.train import Run, load_data_for
    tc = get_config(config, "paper" if config == "e4-classification" else "cpu")
    if config == "e4-classification":
        H = cfg.hidden or (128 if cfg.quick else 500)
        # a linear head (final_activation "none"): with nets' default final ReLU the two-output
        # network often has dead outputs (delta X = 0) early in training
        tc.model = {**tc.model, "topology": [2, H, H, 2], "final_activation": "none"}
        tc.pruning = {"every": 7, "schedule": "3.6", "tau": 0.7, "alpha": 0.1, "beta": 0.1}
        tc.epochs = cfg.epochs or (21 if cfg.quick else 120)
    else:
        # cpu-scale config (nets.configs); three pruning rounds (epochs 7, 14, 21) by default
        tc.epochs = cfg.epochs or (7 if cfg.quick else 21)
        if cfg.quick:
            tc.n_train, tc.n_test = 2000, 500
    data = load_data_for(tc, seed=cfg.seed)
    x_test, y_test = data.test.tensors
    inputs = x_test.double().flatten(1).numpy()
    labels = y_test.numpy().astype(int)
    kwargs = {k: v for k, v in tc.pruning.items() if k not in ("schedule", "schedule_horizon")}
    cb = RecordingCallback(MPPruningCallback(schedule=schedule_callable(tc.pruning), **kwargs),
                           inputs, labels)
    r = Run(tc, data, seed=cfg.seed, device=device, callbacks=[cb], label="pruned", progress=False)
    for _ in progress(range(tc.epochs), desc=config):
        r.train_epoch()
    final = network_from_model(r.model)
    dX_final = pb.classification_confidence(final.forward(inputs), labels)
    return dict(config=config, topology=tc.model.get("topology"), epochs=tc.epochs,
                records=cb.records, dX_final=dX_final)


_INSTANCES = ("the trained networks of the setting (e4-classification [2, H, H, 2] and ex3.2a at cpu scale, "
              "nets.configs); not the paper's runs")
DECLARATIONS = {
    # Lemma 4.1 (paper 000 Sec. 4.2, (4.4); several layers at once: the sum of the single-layer bounds):
    # a deterministic inequality for every input, so one violation refutes it.
    "lemma_4_1": P.declare(
        LEMMA_4_1, "max over pruning events and test inputs of |dX(W) - dX(W')| / bound (4.4)", "bound",
        scale=_INSTANCES, family="000:lemma:4.1 at pruning events"),
    # Theorem 4.1 (Sec. 4.5, (4.18)): inputs with dX >= E' keep dX > 0.  Its premise (some input
    # certified) never met -> vacuous; met -> the count of certified inputs that flipped must be 0.
    "theorem_4_1": P.declare(
        THEOREM_4_1, "fraction of the test set with dX >= E' (premise); then the certified inputs that "
        "flipped, against 0", "condition", scale=_INSTANCES, family="000:theorem:4.1 at pruning events"),
}


def verdicts(out: dict) -> list[Verdict]:
    """Lemma 4.1 and Theorem 4.1 of paper 000 at the pruning events of one run (``DECLARATIONS``)."""
    changed = [r for r in out["records"] if r["changed"]]
    setting = f"{out['config']} {out['topology']}, Algorithm 1, {len(changed)} pruning events"
    if not changed:
        decl = DECLARATIONS["lemma_4_1"]
        return [P.verdict(decl, P.withheld(decl, "no pruning event changed a layer (MP fit rejected or "
                                                 "nothing below the threshold)"), setting=setting,
                          note="no pruning event changed a layer (MP fit rejected or nothing below "
                               "the threshold)", extra=dict(check="pipeline_lemma_4_1", config=out["config"]))]
    n = sum(r["n_test"] for r in changed)
    viol = sum(r["violations"] for r in changed)
    worst = max(r["max_actual_over_bound"] for r in changed)
    wrong_unit = sum(r["violations_if_sqrt_lambda_plus_of_X"] or 0 for r in changed)
    decl = DECLARATIONS["lemma_4_1"]
    rows = [P.verdict(decl, P.bound(decl, worst, 1.0), setting=setting, measured=worst, bound=1.0,
                      note=f"{viol} violations in {n} (event, test input) pairs; measured = max "
                           "actual / bound; premise ||W-W'|| <= threshold: "
                           f"{all(r['premise_ok'] for r in changed)}; with sqrt(lambda+) of X = "
                           "W^T W/N in place of the singular-value threshold sqrt(lambda+ N), (4.4) "
                           f"is exceeded {wrong_unit} times",
                      extra=dict(check="pipeline_lemma_4_1", config=out["config"], violations=viol,
                                 pairs=n, median_ratio=[r["median_ratio"] for r in changed]))]
    cf_e = sum(r["certified_but_flipped_E_prime"] for r in changed)
    flipped = sum(r["flipped"] for r in changed)
    decl = DECLARATIONS["theorem_4_1"]
    met = any(r["certified_E_prime"] > 0 for r in changed)
    decision = (P.bound(decl, cf_e, 0) if met else
                P.condition(decl, False, "no test input has dX >= E' at any pruning event"))
    rows.append(P.verdict(decl, decision, setting=setting,
                          measured=float(np.mean([r["certified_E_prime"] for r in changed])),
                          note="measured = mean fraction of the test set with dX >= E' (f_W from the "
                               f"inverse spiked map); certified inputs that flipped: {cf_e}; inputs "
                               f"that flipped at some event: {flipped}",
                          extra=dict(check="pipeline_theorem_4_1", config=out["config"],
                                     max_flipped=max(r["flipped"] for r in changed),
                                     n_test=changed[0]["n_test"])))
    return rows


def _event_record(config: str, r: dict) -> dict:
    keep = {k: v for k, v in r.items() if k not in ("dX_before", "bound", "E_prime", "actual")}
    return dict(table="events", config=config, **keep)


def _histograms(out: dict) -> list[dict]:
    """delta X of the test set after training, and just before the last pruning event."""
    rows = []
    series = [("final", out["dX_final"], None)]
    changed = [r for r in out["records"] if r["changed"]]
    if changed:
        series.append(("before_last_event", changed[-1]["dX_before"], changed[-1]["epoch"]))
    for which, values, epoch in series:
        counts, edges = np.histogram(values, bins=HIST_BINS)
        rows += [dict(table="delta_x_histogram", config=out["config"], series=which, epoch=epoch,
                      bin_low=float(lo), bin_high=float(hi), count=int(c))
                 for lo, hi, c in zip(edges[:-1], edges[1:], counts)]
    return rows


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """Train each problem, analyse its pruning events, return one Result (no command line recorded
    from Python; ``python -m`` records its own through ``sims.experiment.cli_main``)."""
    context = context or ExperimentRun(MODULE, config)
    if not config.config:
        raise InvalidArgument(f"config must name at least one of {CONFIGS}, got none")
    context.seed = config.seed
    with context:
        return _run(config, context)


def _run(cfg: Config, context: ExperimentRun) -> Result:
    records, hist, vs, runs = [], [], [], []
    for name in cfg.config:
        out = train_and_record(name, cfg, context.device)
        records += [_event_record(name, r) for r in out["records"]]
        hist += _histograms(out)
        vs += verdicts(out)
        runs.append(dict(table="runs", config=name, topology=out["topology"], epochs=out["epochs"],
                         n_test=int(out["dX_final"].size),
                         final_accuracy=float(np.mean(out["dX_final"] > 0)),
                         events=len(out["records"]),
                         events_changing_a_layer=sum(r["changed"] for r in out["records"])))
    return context.result(config=recorded_config(cfg, context.device), records=records, verdicts=vs,
                          tables={"runs": runs, "delta_x_histogram": hist})


def main(argv=None) -> int:
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
