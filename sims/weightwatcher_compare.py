"""The package's layer spectra beside WeightWatcher's (Martin and Mahoney; ``pip install
weightwatcher``, the optional extra ``weightwatcher``), on the same trained models.

Per weight layer WeightWatcher analyses (Linear layers; its Conv2d handling slices the kernel into
p q matrices of n x m, not the m x (n p q) reshape of paper 000 Section 3.2.2, so conv layers are
listed but their eigenvalues are not compared; nn.MultiheadAttention's packed in_proj_weight is not
a layer for WeightWatcher and is skipped by it):

* eigenvalues: WeightWatcher's ESD is ``sv^2`` of W (no 1/N); ours (``nets.spectrum``) is
  ``sv^2 / N`` with N = max(out, in), so ``ww = N * ours`` must hold to rounding;
* MP fit: WeightWatcher rescales the ESD to mean 1 (``W_scale``), fits sigma by a kernel density
  fit and counts spikes above ``(sigma (1 + 1/sqrt Q))^2 + sqrt(TW)`` with its own Tracy-Widom-like
  margin; ours is BEMA (Algorithm 2: quantile least squares on the middle of the bulk, the
  Tracy-Widom 0.9 quantile) and Algorithm 4's fit statistic; the spike counts are compared and the
  edges put on the same scale (singular values);
* ``rand_distance`` (WeightWatcher's distance between the ESD and that of the entry-shuffled W) is
  reported beside our fit statistic (both small for MP-like layers);
* power-law alpha: WeightWatcher's, and ours (``theory.powerlaw_alpha``, Clauset-Shalizi-Newman,
  untruncated and with xmax = the largest eigenvalue, as WeightWatcher asks of its fitter);
* what Algorithm 3 would remove (singular values below sqrt(lambda_+ N));
* the time each takes for the whole model.

``python -m sims.weightwatcher_compare --vit-dir runs/vit/seed0 --json results/nets/weightwatcher.json``
(flags: the fields of ``Config``; the committed Result was made with the old name ``python -m
nets.weightwatcher_compare``, an alias).  Models: a 784-256-256-10 MLP trained ``mlp_epochs`` epochs on
30,000 Fashion-MNIST images (``sims.paper003_training.train_mlp``), the ViT of ``vit_dir`` (a
``python -m nets.vit`` run directory) when given, and an untrained CNN (torch's default init).
"""
from __future__ import annotations

import logging
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.result import Result
from core.validate import InvalidArgument
from sims.experiment import ExperimentRun, cli_main, option

MODULE = "sims.weightwatcher_compare"
RESULT_NAME = "nets.weightwatcher_compare"  # the name its committed Result carries
CPU_ONLY = True  # computes on the CPU whatever the machine has


@dataclass(frozen=True)
class Config:
    vit_dir: str | None = option(None, "a nets.vit run directory (its ViT joins the comparison)", optional=True)
    mlp_epochs: int = option(6, "training epochs of the 784-256-256-10 MLP", lo=1, hi=1000)


def toy_config(tmp_path=None) -> Config:
    """The MLP after one epoch and the untrained CNN (no ViT)."""
    return Config(mlp_epochs=1)


def _weightwatcher():
    try:
        import weightwatcher as ww
    except ImportError:
        raise InvalidArgument("weightwatcher is not installed: pip install 'rmt-pruning[weightwatcher]'") from None
    logging.getLogger("weightwatcher").setLevel(logging.ERROR)
    return ww


def ours(model: nn.Module, alpha: float = 0.1, beta: float = 0.1) -> tuple[dict, float]:
    """Our per-layer readings for every Linear/Conv2d; (rows by module name, seconds)."""
    from nets.layers import weight_layers, weight_matrix
    from nets.spectrum import UnfittableSpectrum, matrix_spectrum
    from theory.powerlaw_alpha import fit_powerlaw_alpha
    t0 = time.perf_counter()
    out = {}
    for name, layer in weight_layers(model):
        W = weight_matrix(layer)
        row = {"kind": "conv" if isinstance(layer, nn.Conv2d) else "linear", "shape": list(W.shape)}
        try:
            spec = matrix_spectrum(W, alpha, beta, name)
        except (UnfittableSpectrum, ValueError) as exc:
            row["error"] = str(exc)
            out[name] = row
            continue
        s = spec.s.cpu().numpy()
        N = max(W.shape)
        try:
            pl = fit_powerlaw_alpha(s ** 2 / N)
            pl_alpha, pl_xmin = pl.alpha, pl.xmin * N
            pl_alpha_trunc = fit_powerlaw_alpha(s ** 2 / N, xmax="max").alpha
        except ValueError:
            pl_alpha = pl_xmin = pl_alpha_trunc = None
        row.update(sv=s, N=N, sigma2=spec.fit.sigma2, lambda_plus=spec.fit.lambda_plus,
                   edge_sv=spec.threshold, n_spikes=spec.n_above, fit_statistic=spec.fit.mp_fit_error,
                   alg3_removed=spec.n_small, alg3_kept=spec.n_above, alpha=pl_alpha, alpha_xmin_sv2=pl_xmin,
                   alpha_truncated=pl_alpha_trunc)
        out[name] = row
    return out, time.perf_counter() - t0


def theirs(model: nn.Module) -> tuple[object, dict, float]:
    """WeightWatcher's analyze(mp_fit=True, randomize=True) DataFrame, its ESDs by layer name, seconds."""
    ww = _weightwatcher()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        watcher = ww.WeightWatcher(model=model)
        df = watcher.analyze(mp_fit=True, randomize=True, plot=False)
    seconds = time.perf_counter() - t0
    esd = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, r in df.iterrows():
            esd[str(r["longname"])] = np.sort(np.asarray(watcher.get_ESD(layer=int(r["layer_id"])), dtype=float))
    return df, esd, seconds


def compare_model(label: str, model: nn.Module) -> tuple[list[dict], dict]:
    model = model.eval()
    mine, t_ours = ours(model)
    df, esd, t_ww = theirs(model)
    rows = []
    for _, r in df.iterrows():
        name = str(r["longname"])
        me = mine.get(name, {})
        row = {"model": label, "layer": name, "ww_layer_type": str(r["layer_type"]), "kind": me.get("kind"),
               "shape": me.get("shape"), "ww_N": int(r["N"]), "ww_M": int(r["M"]),
               "ww_sigma_mp": float(r["sigma_mp"]), "ww_num_spikes": int(r["num_spikes"]),
               "ww_rand_distance": float(r["rand_distance"]), "ww_alpha": float(r["alpha"]),
               "ww_xmin": float(r["xmin"]), "ww_W_scale": float(r["W_scale"]), "ww_bulk_max": float(r["bulk_max"]),
               "ww_warning": str(r.get("warning", ""))}
        if "sv" in me:
            ev = esd.get(name)
            sv2 = np.sort(me["sv"] ** 2)
            comparable = me["kind"] == "linear" and ev is not None and ev.size == sv2.size
            row.update(
                our_sigma2=me["sigma2"], our_lambda_plus=me["lambda_plus"], our_edge_sv=me["edge_sv"],
                # WeightWatcher's bulk edge on singular values of W: bulk_max is in the units of its
                # lambda_max, checked against sv_max^2 in ww_lambda_max_over_sv_max2
                ww_edge_sv=float(np.sqrt(r["bulk_max"])) if r["bulk_max"] > 0 else None,
                ww_lambda_max_over_sv_max2=float(r["lambda_max"] / me["sv"][0] ** 2),
                our_n_spikes=me["n_spikes"], our_fit_statistic=me["fit_statistic"], our_alpha=me["alpha"],
                our_alpha_truncated=me["alpha_truncated"], our_alpha_xmin_sv2=me["alpha_xmin_sv2"],
                alpha_difference=(me["alpha"] - float(r["alpha"])) if me["alpha"] is not None else None,
                alg3_kept=me["alg3_kept"], alg3_removed=me["alg3_removed"],
                eigenvalues_compared=bool(comparable),
                max_rel_eig_diff=(float(np.max(np.abs(ev - sv2) / np.maximum(sv2.max(), 1e-300)))
                                  if comparable else None),
                ww_over_ours_normalised=(float(np.median(ev[ev > 0] / (sv2[ev > 0] / me["N"])))
                                         if comparable else None))
        elif "error" in me:
            row["our_error"] = me["error"]
        rows.append(row)
    return rows, {"model": label, "seconds_ours": t_ours, "seconds_weightwatcher": t_ww,
                  "layers_ww": int(len(df)), "layers_ours": len(mine)}


def run(config: Config = Config(), *, context: ExperimentRun | None = None) -> Result:
    """The models' spectra, ours beside WeightWatcher's: one Result named ``RESULT_NAME`` (no
    verdicts: a comparison of two readings of the same matrices)."""
    context = context or ExperimentRun(MODULE, config, experiment=RESULT_NAME)
    with context:
        _weightwatcher()  # refused before any training when the optional extra is missing
        if config.vit_dir is not None and not (Path(config.vit_dir) / "checkpoint.pt").is_file():
            raise InvalidArgument(f"vit_dir: {config.vit_dir} has no checkpoint.pt; train it with "
                                  "python -m nets.vit")
        return _compare(config, context)


def _compare(config: Config, context: ExperimentRun) -> Result:
    from nets.vit import load_fashion_mnist, load_trained
    from sims.paper003_training import train_mlp
    vit_dir, mlp_epochs = config.vit_dir, config.mlp_epochs
    models = []
    data = load_fashion_mnist()
    mlp, _ = train_mlp((784, 256, 256, 10), data, seed=0, epochs=mlp_epochs, weight_decay=0.0, n_train=30000)
    models.append((f"mlp 784-256-256-10 ({mlp_epochs} epochs)", mlp))
    if vit_dir is not None:
        vit, _ = load_trained(vit_dir)
        models.append((f"vit {Path(vit_dir).name}", vit))
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Flatten(),
                        nn.Linear(64 * 24 * 24, 128), nn.ReLU(), nn.Linear(128, 10))
    models.append(("cnn (untrained, torch default init)", cnn))
    records, timing = [], []
    for label, model in models:
        rows, t = compare_model(label, model)
        records += rows
        timing.append(t)
    return context.result(config=asdict(config), records=records, tables={"timing": timing})


def main(argv=None) -> int:
    """``python -m sims.weightwatcher_compare``; the old name ``python -m nets.weightwatcher_compare``
    runs ``cli_main(MODULE, argv, recorded_as="nets.weightwatcher_compare")``."""
    return cli_main(MODULE, argv)


if __name__ == "__main__":
    sys.exit(main())
