"""The fully connected nets of ``sims.paper003_abstract`` (claims 003:abstract:3-5), trained with paper
000's optimiser while the randomness of every weight matrix (``nets.randomness``) is recorded at
initialisation and after every epoch; ``sgd_epoch`` is also the FC pre-training of
``sims.paper003_arms`` and ``train_mlp`` the MLP of ``sims.weightwatcher_compare``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from nets.vit import evaluate as loss_and_accuracy


def sgd_epoch(model, opt, train_x, train_y, *, seed: int, epoch: int) -> None:
    """One epoch of paper 000's optimiser ((3.7): lr 0.01 x 0.96^epoch, batch 64, cross-entropy),
    batches in the order of ``nets.data.epoch_generator(seed, epoch)``."""
    from nets.data import epoch_generator
    for g in opt.param_groups:
        g["lr"] = 0.01 * 0.96 ** epoch
    model.train()
    order = torch.randperm(len(train_y), generator=epoch_generator(seed, epoch))
    for i in range(0, len(order), 64):
        idx = order[i:i + 64]
        loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def train_mlp(topology, data, *, seed: int, epochs: int, weight_decay: float, n_train: int):
    """SGD with momentum (paper 000's optimiser), lr 0.01 decayed 0.96 per epoch ((3.7)), batch 64;
    randomness measures of every layer at initialisation and after every epoch."""
    from nets.models import FullyConnectedNet, initialise_
    from nets.randomness import model_randomness
    (train_x, train_y), (test_x, test_y) = data
    train_x, train_y = train_x[:n_train].flatten(1), train_y[:n_train]
    model = FullyConnectedNet(list(topology), final_activation="none")
    initialise_(model, "normal", generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=weight_decay)
    rows = [{"epoch": 0, "measures": model_randomness(model)}]
    for epoch in range(epochs):
        sgd_epoch(model, opt, train_x, train_y, seed=seed, epoch=epoch)
        tl, ta = loss_and_accuracy(model, test_x.flatten(1), test_y)
        trl = loss_and_accuracy(model, train_x, train_y)[0]
        rows.append({"epoch": epoch + 1, "train_loss": trl, "test_loss": tl, "test_accuracy": ta,
                     "measures": model_randomness(model)})
    return model, rows


def trajectory_records(net: str, seed: int, l2, rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        for m in r["measures"]:
            out.append(dict(net=net, seed=seed, l2=l2, epoch=r["epoch"], train_loss=r.get("train_loss"),
                            **{k: v for k, v in m.items() if k != "shape"}))
    return out
