"""Layer spectral report for any torch model (Linear and Conv2d, factorised layers as their
product): ESD, BEMA lambda_+ (Algorithm 2), MP fit statistic (Algorithm 4), spike count, and what
Algorithm 3 (Appendix D.3, all singular values below sqrt(lambda_+ N) removed) would remove and
save. Conventions as in ``nets.algorithms`` (matrix ``out x in``; BEMA on the tall orientation).

    python -m nets.spectral_report CHECKPOINT [--json OUT] [--csv] [--tau 0.7] [--alpha 0.1] [--tw-level 0.1]

CHECKPOINT is a file written by ``torch.save`` (a ``nets.train`` checkpoint, a state_dict, or a dict
holding one under "model_state"/"state_dict"/"model"), read with ``weights_only=True``, or a
``.safetensors`` file (the format model hubs ship; needs the extra ``safetensors``). Only tensors
are used: a file never chooses code to run, and a whole pickled model (``torch.save(model)``) is
refused with a one-line hint to save its ``state_dict()``. A state_dict of an MP-pruned model
(``nets.mp_prune``) is read as its pruned weights W' (exact zeros beyond the kept rank: where they
cover BEMA's window the row says there is no bulk left to fit).  ``package.module:attribute`` (an
nn.Module, or a zero-argument callable returning one) is accepted only with
``--allow-code-import``, because it imports that module and calls that attribute.

Columns of the table (``--csv`` prints every field of every row as CSV on stdout instead):

  lambda+   BEMA's edge (Algorithm 2) for the eigenvalues of W^T W / N, W tall (N = max(out, in))
  sv thr    the same edge on W's singular values, sqrt(lambda+ N) (Algorithm 3 step 6)
  fit       Algorithm 4's statistic: sup distance between the bulk's empirical cdf and the fitted MP cdf
  accept    "yes" if fit <= --tau (Algorithm 4 keeps the MP hypothesis), "no" if not, "-" without --tau
  spikes    eigenvalues above lambda+
  keep      singular values Algorithm 3 keeps (those above sv thr); "all" when none is above it: as
            nets.mp_prune, the report never proposes rank 0 (the weight is kept)
  saved     weights saved by splitting the layer into its two rank-keep factors, where that saves
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from theory.powerlaw_alpha import fit_powerlaw_alpha

import warnings

from core.cli import make_parser, positive_int, run
from core.result import Provenance, Result, plain, write_result
from core.validate import InvalidArgument, check_float, check_int
from nets.checkpoint import read_checkpoint
from nets.layers import FactorizedConv2d, FactorizedLinear, split_saves_parameters, weight_matrix
from nets.prune import LowRankProjection
from nets.algorithms import UnfittableSpectrum, layer_spectrum, prunable_layers


def model_matrices(model: nn.Module) -> dict[str, tuple[str, torch.Tensor, int | None]]:
    """name -> (kind, out x in matrix, known rank or None) for every Linear/Conv2d/factorised
    layer of a model."""
    out = {}
    for name in prunable_layers(model):
        layer = model.get_submodule(name)
        kind = "conv" if isinstance(layer, (nn.Conv2d, FactorizedConv2d)) else "linear"
        rank = layer.rank if isinstance(layer, (FactorizedLinear, FactorizedConv2d)) else None
        out[name] = (kind, weight_matrix(layer), rank)
    return out


def _mp_pruned_weights(state: dict) -> tuple[dict, dict[str, int]]:
    """``X.weight`` = W' for every MP parametrization ``X.parametrizations.weight.*`` of a state_dict
    (the projection applied to the stored original), the other keys unchanged; and the kept rank
    of each single-block one (its trailing singular values are exact zeros)."""
    state, ranks = dict(state), {}
    tails = ".parametrizations.weight.original"
    for key in [k for k in state if k.endswith(tails) or k == tails[1:]]:
        prefix = key[: -len("original")]
        if prefix + "0.block_rows" not in state:
            continue
        original = state[key]
        projection = LowRankProjection.empty_like_state(state, prefix + "0.", original.dtype, original.device)
        projection.load_state_dict({k[len(prefix) + 2:]: v for k, v in state.items() if k.startswith(prefix + "0.")})
        module = key[: -len(tails)] if key != tails[1:] else ""
        weight = projection(original).detach()
        # W' takes the place of the parametrization's keys (the model's layer order is kept)
        state = {(f"{module}.weight" if module else "weight") if k == key else k: (weight if k == key else v)
                 for k, v in state.items() if k == key or not k.startswith(prefix)}
        if len(projection.ranks()) == 1 and projection.ranks()[0] >= 0:
            ranks[module] = projection.ranks()[0]
    return state, ranks


def state_dict_matrices(state: dict) -> dict[str, tuple[str, torch.Tensor, int | None]]:
    """name -> (kind, matrix) from a state_dict: 2-D ``*.weight`` (linear), 4-D (conv, reshaped
    m x (n p q)); ``X.first.weight`` / ``X.second.weight`` pairs become the product under ``X``;
    MP-parametrized weights (``nets.mp_prune``) their W'. BatchNorm weights (1-D) are skipped."""
    state, pruned_ranks = _mp_pruned_weights(state)
    out = {}
    keys = [k for k in state if k.endswith(".weight") or k == "weight"]
    for key in keys:
        t = state[key]
        if not isinstance(t, torch.Tensor) or t.ndim not in (2, 4):
            continue
        name = key[: -len(".weight")] if key != "weight" else ""
        if name.endswith(".second"):
            continue
        if name.endswith(".first"):
            base = name[: -len(".first")]
            second = state.get(base + ".second.weight")
            if second is None:
                raise ValueError(f"{key} has no matching {base}.second.weight")
            a = second.reshape(second.shape[0], -1).to(torch.float64)
            b = t.reshape(t.shape[0], -1).to(torch.float64)
            out[base] = ("conv" if t.ndim == 4 else "linear", a @ b, int(b.shape[0]))
            continue
        out[name] = ("conv" if t.ndim == 4 else "linear", t.reshape(t.shape[0], -1), pruned_ranks.get(name))
    return out


def layer_report(name: str, kind: str, matrix: torch.Tensor, alpha=0.1, tw_level=0.1, tau=None,
                 bins: int = 50, rank: int | None = None) -> dict:
    """Report for one matrix; ``rank`` marks a factorised product (trailing singular values 0)."""
    n_out, n_in = (int(d) for d in matrix.shape)
    row = {"layer": name, "kind": kind, "shape": [n_out, n_in]}
    try:
        spec = layer_spectrum(matrix, alpha, tw_level, name, known_rank=rank)
    except UnfittableSpectrum as exc:
        row["error"] = str(exc)
        return row
    except ValueError as exc:
        if "non-finite" in str(exc) or isinstance(exc, InvalidArgument):
            raise
        row["error"] = str(exc)   # e.g. too few eigenvalues for BEMA's window
        return row
    fit = spec.fit
    s = spec.s.cpu().numpy()
    eig = np.sort(s ** 2 / max(n_out, n_in))
    counts, edges = np.histogram(eig, bins=bins)
    # mp_prune's policy: no silent rank 0 (an all-noise layer keeps its weight, AllNoiseWarning)
    all_noise = spec.n_above == 0
    keep = int(s.size) if all_noise else spec.n_above
    weights = n_out * n_in
    split = keep * (n_out + n_in)
    try:   # heavy-tailed power-law exponent of the ESD (Clauset-Shalizi-Newman, WeightWatcher's alpha)
        powerlaw_alpha = fit_powerlaw_alpha(eig).alpha
    except ValueError:   # fewer than 10 positive eigenvalues in the tail
        powerlaw_alpha = None
    row.update({
        "powerlaw_alpha": powerlaw_alpha,
        "n_rows_tall": max(n_out, n_in), "n_cols_tall": min(n_out, n_in), "ratio": fit.ratio,
        "sigma2": fit.sigma2, "lambda_plus": fit.lambda_plus,
        "lambda_plus_in_features": spec.lambda_plus_in_features, "sv_threshold": spec.threshold,
        "fit_statistic": fit.mp_fit_error, "bulk_sup_distance": fit.bulk_sup_distance,
        "accepted": None if tau is None else bool(fit.accepts(tau)), "tau": tau,
        "n_spikes": int(fit.n_spikes), "n_singular": int(s.size),
        "top_singular_values": s[: min(10, s.size)].tolist(),
        "algorithm3": {"kept": keep, "all_noise": all_noise, "removed": int(s.size - keep),
                       "removed_energy_fraction": float((s[keep:] ** 2).sum() / max((s ** 2).sum(), 1e-300)),
                       "weights_before": weights, "weights_after_split": split,
                       "split_saves": split_saves_parameters(n_out, n_in, keep), "weights_saved": max(0, weights - split)},
        "esd": {"eigenvalues_of": "W^T W / N, W tall (N = max(out, in))",
                "bin_edges": edges.tolist(), "counts": counts.tolist()},
    })
    return row


def spectral_report(source, alpha=0.1, tw_level=0.1, tau=None, bins: int = 50, *, beta=None) -> list[dict]:
    """Rows for every weight layer of an nn.Module or a state_dict (module docstring: the fields).

    Parameters
    ----------
    source : nn.Module or dict
        A model, or a state_dict (plain, factorised or MP-pruned layers).
    alpha : float in (0, 1/2), default 0.1
        Algorithm 2's trimmed fraction.
    tw_level : float in (0, 1), default 0.1
        Algorithm 2's Tracy-Widom level (the paper's beta; ``beta=`` is its deprecated name).
    tau : float > 0, optional
        Algorithm 4's tolerance (None: no accept/reject).
    bins : int >= 1
        ESD histogram bins.

    Returns
    -------
    list of dict
        One row per Linear/Conv2d/factorised layer.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(200, 100))
    >>> with torch.no_grad():
    ...     _ = model[0].weight.copy_(torch.randn(100, 200, generator=g) + 0.5 * torch.randn(100, 1, generator=g) @ torch.randn(1, 200, generator=g))
    >>> (row,) = spectral_report(model, tau=0.7)
    >>> row["n_spikes"] >= 1, row["algorithm3"]["kept"] == row["n_spikes"], row["accepted"]
    (True, True, True)
    """
    if beta is not None:
        warnings.warn("spectral_report: 'beta' is renamed 'tw_level' (Algorithm 2's Tracy-Widom level); "
                      "'beta' will be removed in the next release", DeprecationWarning, stacklevel=2)
        tw_level = beta
    alpha = check_float("alpha", alpha, 0.0, 0.5, lo_open=True, hi_open=True)
    tw_level = check_float("tw_level", tw_level, 0.0, 1.0, lo_open=True, hi_open=True)
    if tau is not None:
        tau = check_float("tau", tau, 0.0, None, lo_open=True)
    bins = check_int("bins", bins, 1, 10**6)
    if isinstance(source, nn.Module):
        mats = model_matrices(source)
    elif isinstance(source, dict):
        mats = state_dict_matrices(source)
    else:
        raise ValueError(f"expected an nn.Module or a state_dict, got {type(source).__name__}")
    if not mats:
        raise ValueError("no Linear/Conv2d weight matrices found")
    return [layer_report(n, k, m, alpha, tw_level, tau, bins, rank) for n, (k, m, rank) in mats.items()]


LEGEND = ("lambda+: BEMA edge of W^T W/N (Alg. 2); sv thr: sqrt(lambda+ N) on W's singular values; "
          "fit: Alg. 4 statistic; accept: fit <= --tau ('-': no --tau); spikes: eigenvalues above lambda+; "
          "keep: singular values Alg. 3 keeps ('all': every one is noise, and rank 0 is never proposed, "
          "as in nets.mp_prune); saved: weights saved by the split. --help explains every field.")


def format_report(rows: list[dict], width: int | None = None) -> str:
    """The table (kind is read from the shape and the layer name; every field is in ``--csv``),
    a total, and the legend of the columns wrapped to ``width`` (default: the terminal's)."""
    import textwrap

    from core.cli import terminal_width
    width = terminal_width() if width is None else width
    name_w = min(24, max(6, max(len(r["layer"]) for r in rows) + 1))
    head = (f"{'layer':<{name_w}}{'shape':>10}{'lambda+':>10}{'sv thr':>8}{'fit':>7}"
            f"{'accept':>7}{'spikes':>7}{'keep':>6}{'saved':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        layer = r["layer"] if len(r["layer"]) < name_w else r["layer"][: name_w - 2] + "~ "
        if "error" in r:
            lines.append(f"{layer:<{name_w}}{shape:>10}  (no fit: {r['error']})")
            continue
        acc = "-" if r["accepted"] is None else ("yes" if r["accepted"] else "no")
        a3 = r["algorithm3"]
        keep = "all" if a3.get("all_noise") else a3["kept"]
        lines.append(f"{layer:<{name_w}}{shape:>10}{r['lambda_plus']:>10.4g}"
                     f"{r['sv_threshold']:>8.4g}{r['fit_statistic']:>7.3f}{acc:>7}{r['n_spikes']:>7}"
                     f"{keep:>6}{a3['weights_saved']:>9}")
    total = sum(r["algorithm3"]["weights_saved"] for r in rows if "algorithm3" in r)
    lines.append(f"weights Algorithm 3 would save (splitting every layer where it saves): {total}")
    lines += textwrap.wrap(LEGEND, width=max(40, width))
    return "\n".join(lines)


def format_csv(rows: list[dict]) -> str:
    """Every report row as one CSV line (the flat record of the Result: Algorithm 3's fields
    prefixed ``algorithm3_``; lists as JSON; None empty)."""
    import csv
    import io
    import json
    records = [plain(_flat(r)) for r in rows]
    keys: list[str] = []
    for r in records:
        keys.extend(k for k in r if k not in keys)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in r.items()})
    return buffer.getvalue()


_STATE_KEYS = ("model_state", "state_dict", "model")


def _state_dict_from(obj, path) -> dict:
    """The state_dict inside a loaded checkpoint: a nets.train checkpoint, a dict holding one under
    a key of _STATE_KEYS, or a state_dict itself (string keys, tensor values)."""
    if isinstance(obj, dict):
        for key in _STATE_KEYS:
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
        if obj and all(isinstance(k, str) for k in obj) and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise InvalidArgument(f"source {path}: expected a nets.train checkpoint or a state_dict (names -> tensors), "
                          f"got a {type(obj).__name__}" + (f" with keys {sorted(map(str, obj))[:8]}"
                                                           if isinstance(obj, dict) else ""))


def load_source(spec: str, *, allow_code_import: bool = False):
    """A checkpoint path -> its state_dict; ``module:attribute`` -> the nn.Module it names, only
    with ``allow_code_import=True`` (it imports the module and may call the attribute)."""
    if not isinstance(spec, str) or not spec:
        raise InvalidArgument(f"source must be a checkpoint path or module:attribute, got {spec!r}")
    path = Path(spec)
    if path.exists():
        return _state_dict_from(read_checkpoint(path, "source"), path)
    if ":" in spec and not allow_code_import:
        raise InvalidArgument(f"source {spec!r} is not an existing file; as module:attribute it would import "
                              "and run code, which needs --allow-code-import (allow_code_import=True)")
    if ":" in spec:
        mod_name, _, attr = spec.partition(":")
        obj = getattr(importlib.import_module(mod_name), attr)
        if isinstance(obj, nn.Module):
            return obj
        if callable(obj):
            made = obj()
            if isinstance(made, nn.Module):
                return made
        raise InvalidArgument(f"source {spec} is neither an nn.Module nor a callable returning one")
    raise InvalidArgument(f"source {spec!r} is not an existing file (a checkpoint written by torch.save)")


def make_cli_parser():
    p = make_parser("nets.spectral_report", __doc__, options=("json",))
    p.add_argument("source", help="checkpoint / state_dict file (or module:attribute with --allow-code-import)")
    p.add_argument("--alpha", type=float, default=0.1, help="Algorithm 2's trimmed fraction, in (0, 0.5)")
    p.add_argument("--tw-level", "--beta", dest="tw_level", type=float, default=0.1,
                   help="Algorithm 2's Tracy-Widom level (the paper's beta), in (0, 1)")
    p.add_argument("--csv", action="store_true",
                   help="print every field of every layer as CSV on stdout (nothing else on stdout)")
    p.add_argument("--tau", type=float, default=None, help="MP fit tolerance (Algorithm 4), > 0")
    p.add_argument("--bins", type=positive_int, default=50, help="ESD histogram bins")
    p.add_argument("--allow-code-import", action="store_true",
                   help="accept SOURCE = package.module:attribute: imports that module and RUNS its code")
    return p


def _flat(row: dict) -> dict:
    """A report row as a flat record (Algorithm 3's numbers prefixed, the ESD left to its table)."""
    out = {k: v for k, v in row.items() if k not in ("algorithm3", "esd")}
    out.update({f"algorithm3_{k}": v for k, v in row.get("algorithm3", {}).items()})
    return out


def _esd_table(rows: list[dict]) -> list[dict]:
    table = []
    for r in rows:
        if "esd" in r:
            edges, counts = r["esd"]["bin_edges"], r["esd"]["counts"]
            table += [{"layer": r["layer"], "bin_lo": lo, "bin_hi": hi, "count": c}
                      for lo, hi, c in zip(edges, edges[1:], counts)]
    return table


def _report(source: str, alpha, tw_level, tau, bins, allow_code_import, argv) -> tuple[list[dict], Result]:
    prov = Provenance.start(module="nets.spectral_report", argv=argv)
    rows = spectral_report(load_source(source, allow_code_import=allow_code_import), alpha, tw_level, tau, bins)
    config = {"source": source, "alpha": alpha, "tw_level": tw_level, "tau": tau, "bins": bins,
              "allow_code_import": allow_code_import}
    return rows, Result("nets.spectral_report", config, prov.stop(), records=[_flat(r) for r in rows],
                        tables={"esd": _esd_table(rows)})


def report_result(source: str, *, alpha=0.1, tw_level=0.1, tau=None, bins: int = 50,
                  allow_code_import: bool = False, argv=None) -> Result:
    """The report of ``source`` as a Result (records: one per layer; table ``esd``)."""
    return _report(source, alpha, tw_level, tau, bins, allow_code_import, argv)[1]


def main(argv=None) -> int:
    def body(args) -> Result | None:
        rows, result = _report(args.source, args.alpha, args.tw_level, args.tau, args.bins,
                               args.allow_code_import, argv)
        if args.csv:
            # stdout is the CSV only (pipe it); the Result, when asked for, is reported on stderr
            sys.stdout.write(format_csv(rows))
            if args.json is not None:
                for path in write_result(result, args.json):
                    print(f"wrote {path}", file=sys.stderr)
            return None
        print(format_report(rows))
        return result
    return run(make_cli_parser(), argv, body)


if __name__ == "__main__":
    sys.exit(main())
