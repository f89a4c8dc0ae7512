"""Device choice for the Monte Carlo engine: ``auto`` takes the GPU when there is one."""
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


def trial_generator(seed: int, trial: int, device: torch.device) -> torch.Generator:
    """Generator for one trial: seeded from (seed, trial) alone, so a trial's draws do not depend
    on batch size or on which other trials ran before it.  Drawn on the CPU generator and moved
    when the device is not the CPU, so that results agree across devices."""
    gen = torch.Generator(device="cpu")
    # A fixed odd multiplier spreads consecutive (seed, trial) pairs over the 64-bit seed space.
    gen.manual_seed((seed * 0x9E3779B97F4A7C15 + trial * 0xBF58476D1CE4E5B9 + 1) % (2**63))
    return gen
