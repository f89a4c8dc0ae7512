"""Device choice for torch work: ``auto`` takes the GPU when there is one.

Lives in nets/ (which sims/ builds on) so that the dependency runs one way: sims -> nets -> theory.
"""
from __future__ import annotations

import torch

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
