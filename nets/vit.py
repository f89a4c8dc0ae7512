"""A small Vision Transformer (Dosovitskiy et al. 2021) for paper 003's ViT experiment at CPU scale,
and its resumable training on Fashion-MNIST.

Architecture: non-overlapping ``patch x patch`` patches, flattened, through a Linear patch
embedding (``patch_embed``, an eligible weight matrix of ``width x patch^2``), a learned class token
and positional embedding, ``depth`` pre-norm ``nn.TransformerEncoderLayer`` blocks (each an
``nn.MultiheadAttention`` ``self_attn`` with packed ``in_proj_weight`` (Q, K, V) and ``out_proj``,
then the MLP ``linear1`` (width -> mlp_ratio width), GELU, ``linear2``), a final LayerNorm and a
Linear ``head`` on the class token. Paper 003 prunes ViT-B/16 (patch 16, width 768, depth 12) on
ImageNet; this is the same structure at width ~64-128.

Training (``train_vit``): AdamW, cosine learning rate over the run, cross-entropy, batch order
from ``nets.data.epoch_generator(seed, epoch)``; a checkpoint after every epoch
(``checkpoint.pt``: weights, optimizer, metrics; ``weights_only`` loadable), so a killed run
resumes where it stopped and reproduces the uninterrupted one on the same machine and thread count.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.validate import InvalidArgument, check_float, check_int

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class ViTConfig:
    image_side: int = 28
    channels: int = 1
    patch: int = 7
    width: int = 64
    depth: int = 3
    heads: int = 4
    mlp_ratio: int = 2
    classes: int = 10
    dropout: float = 0.0

    def __post_init__(self):
        check_int("patch", self.patch, 1, self.image_side)
        if self.image_side % self.patch:
            raise InvalidArgument(f"patch must divide image_side {self.image_side}, got {self.patch}")
        check_int("width", self.width, 2)
        check_int("depth", self.depth, 1)
        check_int("heads", self.heads, 1)
        if self.width % self.heads:
            raise InvalidArgument(f"heads must divide width {self.width}, got {self.heads}")
        check_int("mlp_ratio", self.mlp_ratio, 1)
        check_float("dropout", self.dropout, 0.0, 1.0, hi_open=True)

    @property
    def n_patches(self) -> int:
        return (self.image_side // self.patch) ** 2


class VisionTransformer(nn.Module):
    """ViT classifier (module docstring). Input ``B x C x H x W``; output logits ``B x classes``."""

    def __init__(self, config: ViTConfig = ViTConfig()):
        super().__init__()
        self.config = c = config
        self.patch_embed = nn.Linear(c.channels * c.patch * c.patch, c.width)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c.width))
        self.pos_embed = nn.Parameter(torch.randn(1, c.n_patches + 1, c.width) * 0.02)
        layer = nn.TransformerEncoderLayer(c.width, c.heads, c.mlp_ratio * c.width, c.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, c.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(c.width)
        self.head = nn.Linear(c.width, c.classes)

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        c, b = self.config, x.shape[0]
        g = c.image_side // c.patch
        x = x.reshape(b, c.channels, g, c.patch, g, c.patch).permute(0, 2, 4, 1, 3, 5)
        return x.reshape(b, g * g, c.channels * c.patch * c.patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embed(self.patches(x))
        tokens = torch.cat([self.cls_token.expand(len(tokens), -1, -1), tokens], 1) + self.pos_embed
        return self.head(self.norm(self.blocks(tokens))[:, 0])


def block_weight_layers(model: VisionTransformer) -> list[str]:
    """Module names of the transformer blocks' weight layers (attention and MLP): what the pruning
    comparison prunes. The patch embedding and the head are left dense by all methods (as is
    usual when pruning ViTs; the 10-output head has too few singular values for an MP fit)."""
    return [n for n, m in model.named_modules()
            if n.startswith("blocks.") and isinstance(m, (nn.Linear, nn.MultiheadAttention))]


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 8
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    n_train: int | None = None     # None: all 60000
    n_test: int | None = None


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in eval mode."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = model(x[i:i + batch])
            loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
            correct += int((out.argmax(1) == y[i:i + batch]).sum())
    return loss / len(y), correct / len(y)


def load_fashion_mnist(n_train=None, n_test=None, data_dir=None):
    from nets.data import load_image_dataset
    data = load_image_dataset("fashion_mnist", data_dir, normalisation="meanstd", n_train=n_train, n_test=n_test)
    return data.train.tensors, data.test.tensors


def _lr_at(step: int, total: int, lr: float) -> float:
    warm = max(1, total // 20)
    if step < warm:
        return lr * (step + 1) / warm
    return 0.5 * lr * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def train_vit(config: ViTConfig, settings: TrainSettings, *, seed: int, out_dir: str | Path,
              data=None, log=print, measure=None) -> dict:
    """Train (or resume) one ViT; returns the final metrics. ``out_dir/checkpoint.pt`` holds the
    state after the last completed epoch; ``out_dir/metrics.json`` the per-epoch rows.
    ``measure(model) -> list[dict]`` (e.g. ``nets.randomness.model_randomness``) is recorded at
    initialisation (epoch 0) and after every epoch, under ``"measures"``."""
    from nets.data import epoch_generator
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (train_x, train_y), (test_x, test_y) = data if data is not None else load_fashion_mnist(
        settings.n_train, settings.n_test)
    torch.manual_seed(seed)
    model = VisionTransformer(config)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    steps_per_epoch = math.ceil(len(train_y) / settings.batch_size)
    total = steps_per_epoch * settings.epochs
    epoch, rows, wall = 0, [], 0.0
    if measure is not None:
        rows.append({"epoch": 0, "measures": measure(model)})
    ckpt = out / CHECKPOINT
    meta = {"config": asdict(config), "settings": asdict(settings), "seed": seed}
    if ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        if state["meta"] != json.loads(json.dumps(meta)):
            raise InvalidArgument(f"{ckpt} belongs to another run ({state['meta']}); use another out_dir")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        epoch, rows, wall = state["epoch"], state["rows"], state["wall_s"]
        log(f"resumed {out} after epoch {epoch}")
    while epoch < settings.epochs:
        t0 = time.perf_counter()
        torch.manual_seed(seed * 1009 + epoch)
        model.train()
        order = torch.randperm(len(train_y), generator=epoch_generator(seed, epoch))
        total_loss = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * settings.batch_size:(i + 1) * settings.batch_size]
            for group in opt.param_groups:
                group["lr"] = _lr_at(epoch * steps_per_epoch + i, total, settings.lr)
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(idx)
        epoch += 1
        test_loss, test_acc = evaluate(model, test_x, test_y)
        wall += time.perf_counter() - t0
        rows.append({"epoch": epoch, "train_loss": total_loss / len(train_y), "test_loss": test_loss,
                     "test_accuracy": test_acc, "wall_s": wall})
        if measure is not None:
            rows[-1]["measures"] = measure(model)
        log(f"seed {seed} epoch {epoch}: train loss {rows[-1]['train_loss']:.4f} test acc {test_acc:.4f} "
            f"({wall:.0f} s)")
        tmp = out / (CHECKPOINT + ".tmp")
        torch.save({"meta": meta, "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "epoch": epoch, "rows": rows, "wall_s": wall}, tmp)
        os.replace(tmp, ckpt)
        (out / "metrics.json").write_text(json.dumps(rows, indent=1))
    return {"seed": seed, "epochs": epoch, "rows": rows, "wall_s": wall}


def final_row(rows: list[dict]) -> dict:
    return [r for r in rows if "test_accuracy" in r][-1]


def load_trained(out_dir: str | Path) -> tuple[VisionTransformer, dict]:
    """The trained model of a ``train_vit`` directory and its metadata."""
    state = torch.load(Path(out_dir) / CHECKPOINT, map_location="cpu", weights_only=True)
    model = VisionTransformer(ViTConfig(**state["meta"]["config"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, state


def main(argv=None) -> int:
    """``python -m nets.vit --seeds 0 1 2 --out runs/vit [--epochs 6] [--width 64] [--depth 3]``:
    train (resume) one ViT per seed, one after another, single-threaded."""
    from core.cli import make_parser, nonnegative_int, positive_int
    p = make_parser("nets.vit", __doc__, options=("out", "threads"))
    p.add_argument("--seeds", type=nonnegative_int, nargs="+", default=[0])
    p.add_argument("--epochs", type=positive_int, default=TrainSettings.epochs)
    p.add_argument("--width", type=positive_int, default=ViTConfig.width)
    p.add_argument("--depth", type=positive_int, default=ViTConfig.depth)
    p.add_argument("--patch", type=positive_int, default=ViTConfig.patch)
    p.add_argument("--weight-decay", type=float, default=TrainSettings.weight_decay)
    p.add_argument("--n-train", type=positive_int, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from nets.randomness import model_randomness
    config = ViTConfig(width=args.width, depth=args.depth, patch=args.patch)
    settings = TrainSettings(epochs=args.epochs, weight_decay=args.weight_decay, n_train=args.n_train)
    data = load_fashion_mnist(settings.n_train, settings.n_test)
    out = args.out or Path("runs/vit")
    for seed in args.seeds:
        train_vit(config, settings, seed=seed, out_dir=out / f"seed{seed}", data=data,
                  log=lambda m: print(m, flush=True),
                  measure=lambda m: model_randomness(m, block_weight_layers(m)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
