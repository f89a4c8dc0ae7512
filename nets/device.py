"""Device choice for torch work: ``auto`` takes the GPU when there is one.

Lives in nets/ (which sims/ builds on) so that the dependency runs one way: sims -> nets -> theory.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from core.result import Provenance

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """Map ``auto|cpu|cuda[:k]`` to a torch device; asking for CUDA without one is an error,
    never a silent fallback to the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but torch sees no CUDA device")
        return torch.device(name)
    raise ValueError(f"unknown device {name!r}; choose one of {DEVICE_CHOICES}")


def start_experiment(module: str, device: str, seed: int,
                     argv: list[str] | None) -> tuple[torch.device, "Provenance"]:
    """The preamble of every experiment: resolve ``device`` (an ``InvalidArgument`` naming it when
    it is unknown or absent) and start the Provenance.  ``argv``: the command-line arguments when
    called from the CLI (recorded with ``module``); None from Python (neither is recorded)."""
    from core.result import Provenance
    from core.validate import InvalidArgument
    try:
        dev = resolve_device(device)
    except ValueError as exc:
        raise InvalidArgument(f"device: {exc}") from None
    prov = Provenance.start(module=module if argv is not None else None,
                            argv=list(argv) if argv is not None else [], seed=seed, device=str(dev))
    return dev, prov
