"""The arms of ``sims.paper003_frontier``: data, the FC pre-training, fine-tuning, and the pruning
methods compared there (paper 003's own method through ``nets.singular_vector_sparsification``,
global magnitude and random pruning matched to its counts, the fine-tuned unpruned control, the
package's plain MP rank truncation). ``cfg`` is a ``sims.paper003_frontier.Config``; ``point``
evaluates a model into one record.
"""
from __future__ import annotations

import copy
from pathlib import Path

# the methods compared (the arms below) and the nets they prune
METHODS = ("003", "magnitude", "random", "mp_truncation", "finetune_only")
NETS = ("fc", "vit")


# ------------------------------------------------------------------------------------------------
# data and nets
# ------------------------------------------------------------------------------------------------
def load_data(cfg):
    """((train_x, train_y), (test_x, test_y)), images N x 1 x 28 x 28."""
    import torch
    if cfg.data == "synthetic":
        g = torch.Generator().manual_seed(12345)
        protos = torch.randn(10, 1, 28, 28, generator=g)

        def draw(n):
            y = torch.randint(0, 10, (n,), generator=g)
            return protos[y] + 2.0 * torch.randn(n, 1, 28, 28, generator=g), y
        return draw(cfg.n_train), draw(cfg.n_test)
    from nets.vit import load_fashion_mnist
    return load_fashion_mnist(cfg.n_train, cfg.n_test)


def evaluate(model, x, y, batch: int = 1000) -> tuple[float, float]:
    """``nets.vit.evaluate`` (mean cross-entropy, accuracy) after recomputing the masked tensors:
    nn.MultiheadAttention reads out_proj.weight without calling out_proj (``refresh_masked``)."""
    from nets.singular_vector_sparsification import refresh_masked
    from nets.vit import evaluate as evaluate_model
    refresh_masked(model)
    return evaluate_model(model, x, y, batch)


def train_fc(cfg, data, seed: int, cache: Path):
    """Paper 000's optimiser ((3.7): SGD, momentum 0.9, lr 0.01 x 0.96^epoch, batch 64), linear
    output (the package's ex3.2a-linear-output control: no ReLU after the last layer); cached."""
    import torch
    from nets.models import FullyConnectedNet, initialise_
    from sims.paper003_training import sgd_epoch
    model = FullyConnectedNet(list(cfg.fc_topology), final_activation="none")
    meta = {"topology": list(cfg.fc_topology), "epochs": cfg.fc_epochs, "n_train": cfg.n_train,
            "data": cfg.data, "seed": seed}
    path = cache / f"fc_seed{seed}.pt"
    if path.is_file():
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("meta") == meta:
            model.load_state_dict(state["model"])
            return model.eval(), state["rows"]
    initialise_(model, "normal", generator=torch.Generator().manual_seed(seed))
    (train_x, train_y), (test_x, test_y) = data
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rows = []
    for epoch in range(cfg.fc_epochs):
        sgd_epoch(model, opt, train_x, train_y, seed=seed, epoch=epoch)
        test_loss, test_acc = evaluate(model, test_x, test_y)
        rows.append({"epoch": epoch + 1, "test_loss": test_loss, "test_accuracy": test_acc})
    cache.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "rows": rows, "meta": meta}, path)
    return model.eval(), rows


def pruned_tensors(net: str, model) -> list[tuple[str, str]]:
    """(module name, tensor name) of the matrices every method prunes."""
    from nets.layers import eligible_weights
    if net == "vit":
        from nets.vit import block_weight_layers
        chosen = set(block_weight_layers(model))
        return [(m, t) for m, t in eligible_weights(model) if m in chosen]
    linears = [(m, t) for m, t in eligible_weights(model)]
    return linears[:-1]


# ------------------------------------------------------------------------------------------------
# the methods
# ------------------------------------------------------------------------------------------------
def finetune(model, data, *, samples: int, lr: float, seed: int, penalty=None, batch: int = 128) -> None:
    """AdamW (no weight decay) on ``samples`` training samples drawn without replacement; task
    loss plus ``penalty()``. Pruned entries stay 0 (torch.nn.utils.prune masks)."""
    import torch
    import torch.nn.functional as F
    if samples <= 0:
        return
    (train_x, train_y), _ = data
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(train_y), generator=g)[:samples]
    from nets.singular_vector_sparsification import refresh_masked
    model.train()
    for i in range(0, len(idx), batch):
        b = idx[i:i + batch]
        # masked tensors recomputed from weight_orig every step: nn.MultiheadAttention reads
        # out_proj.weight without calling out_proj, so its prune hook never fires in forward
        refresh_masked(model)
        loss = F.cross_entropy(model(train_x[b]), train_y[b])
        if penalty is not None:
            loss = loss + penalty()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()


def _nonzero_in(model, tensors) -> int:
    import torch
    from nets.singular_vector_sparsification import effective_weight
    from nets.layers import FACTORIZED_TYPES
    total = 0
    for m, t in tensors:
        mod = model.get_submodule(m)
        parts = [(mod.first, "weight"), (mod.second, "weight")] if isinstance(mod, FACTORIZED_TYPES) else [(mod, t)]
        total += sum(int(torch.count_nonzero(effective_weight(a, b))) for a, b in parts)
    return total


def _set_submodule(model, name: str, new) -> None:
    parent, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, attr, new)


def run_003(model0, tensors, data, cfg, lr: float, seed: int, point):
    """003's cycles; returns (rows, per-cycle non-zero count in the pruned matrices, layer rows)."""
    import nets.singular_vector_sparsification as svs
    from nets.layers import FACTORIZED_TYPES
    model = copy.deepcopy(model0)
    cs = svs.CycleSettings(n_cycles=cfg.cycles)
    ss = svs.SparsificationSettings()
    rows, targets, layer_rows = [], [], []
    for cycle in range(1, cfg.cycles + 1):
        decisions = []
        for m, t in tensors:
            mod = model.get_submodule(m)
            w = svs.effective_weight(mod, t) if not isinstance(mod, FACTORIZED_TYPES) else None
            thr = 0.0 if w is None else svs.cycle_vector_threshold(cycle, w.shape[0], w[0].numel(), cs)
            d = svs.decide(mod, t, settings=ss, vector_threshold=thr, layer_name=m)
            new = svs.apply(mod, d, t)
            if new is not mod:
                _set_submodule(model, m, new)
            decisions.append(d)
        pruned_now = 0
        for (m, t), d in zip(tensors, decisions):
            if d.fit_error is None:
                continue                       # no MP fit: the layer has no target (left alone)
            nnz = _nonzero_in(model, [(m, t)])
            n = svs.cycle_magnitude_target(nnz, d.fit_error, d.share_below, cycle, cs)
            pruned_now += svs.prune_smallest([(model.get_submodule(m), t)], n)
            layer_rows.append(dict(seed=seed, cycle=cycle, **d.summary(), magnitude_target=n,
                                   nonzero_before_magnitude=nnz))
        acc_before = evaluate(model, *data[1])[1]
        errs = [(model.get_submodule(m), t, d.fit_error) for (m, t), d in zip(tensors, decisions)
                if d.fit_error is not None]
        finetune(model, data, samples=cfg.finetune_samples, lr=lr, seed=seed * 1000 + cycle,
                 penalty=lambda: svs.l1_penalty(errs, cycle, cs))
        targets.append(_nonzero_in(model, tensors))
        rows.append(point("003", cycle, model, accuracy_before_finetune=acc_before,
                          vector_entries_zeroed=sum(d.zeroed_entries for d in decisions),
                          layers_changed=sum(d.action != "none" for d in decisions)))
    return rows, targets, layer_rows


def run_unstructured(method: str, model0, tensors, data, cfg, lr: float, seed: int, targets, point):
    """Global magnitude (or random) pruning to 003's per-cycle non-zero counts, same fine-tuning."""
    import torch
    import nets.singular_vector_sparsification as svs
    model = copy.deepcopy(model0)
    g = torch.Generator().manual_seed(seed * 7 + 1)
    scores = None if method == "magnitude" else (lambda w: torch.rand(w.shape, generator=g))
    rows = []
    for cycle, target in enumerate(targets, start=1):
        n = _nonzero_in(model, tensors) - target
        svs.prune_smallest([(model.get_submodule(m), t) for m, t in tensors], max(0, n), scores=scores)
        finetune(model, data, samples=cfg.finetune_samples, lr=lr, seed=seed * 1000 + cycle)
        rows.append(point(method, cycle, model))
    return rows


def run_finetune_only(model0, data, cfg, lr: float, seed: int, point):
    """The control: the unpruned net fine-tuned cycle by cycle with the same samples (same draws) and
    no penalty; how much of a pruned net's accuracy comes from the extra training."""
    model = copy.deepcopy(model0)
    rows = []
    for cycle in range(1, cfg.cycles + 1):
        finetune(model, data, samples=cfg.finetune_samples, lr=lr, seed=seed * 1000 + cycle)
        rows.append(point("finetune_only", cycle, model))
    return rows


def run_mp_truncation(model0, tensors, data, cfg, point):
    """The package's plain MP rank truncation (``nets.decide_model`` then apply), no fine-tuning;
    a truncated matrix is counted as its two factors where r (n + m) < n m."""
    import warnings
    import nets
    rows = []
    names = sorted({m for m, _ in tensors})
    for q in cfg.mp_levels:
        model = copy.deepcopy(model0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nets.AllNoiseWarning)
            decisions = nets.decide_model(model, layers=names, keep_fraction=1.0 - q, tau=None)
        saved = 0
        for d in decisions:
            d.apply()
            # stored as two factors r (n + m) where that is smaller (the events' params_after): the
            # parametrized layer is counted so, not as its dense original (the ViT's blocks read
            # linear1.weight directly, so the layers are not swapped for factorised modules)
            saved += sum(e.params_before - e.params_after for e in d if e.action == "parametrized")
        rows.append(point("mp_truncation", q, model, correction=saved))
    return rows
