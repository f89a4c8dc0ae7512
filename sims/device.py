"""Device choice (``nets.device``, re-exported) and per-trial generators for the Monte Carlo engine."""
from __future__ import annotations

import torch

from nets.device import DEVICE_CHOICES, resolve_device  # noqa: F401  (re-exported)


def trial_generator(seed: int, trial: int, device: torch.device) -> torch.Generator:
    """Generator for one trial: seeded from (seed, trial) alone, so a trial's draws do not depend
    on batch size or on which other trials ran before it.  Drawn on the CPU generator and moved
    when the device is not the CPU, so that results agree across devices."""
    gen = torch.Generator(device="cpu")
    # A fixed odd multiplier spreads consecutive (seed, trial) pairs over the 64-bit seed space.
    gen.manual_seed((seed * 0x9E3779B97F4A7C15 + trial * 0xBF58476D1CE4E5B9 + 1) % (2**63))
    return gen


def check_device(name) -> str:
    """Validate a device name at an experiment's entry (``core.validate`` style): one of
    DEVICE_CHOICES, and ``cuda`` only when torch sees a CUDA device."""
    from core.validate import InvalidArgument, check_choice

    check_choice("device", name, DEVICE_CHOICES)
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidArgument("device 'cuda' requested but torch sees no CUDA device; "
                              "use --device auto or cpu")
    return name
