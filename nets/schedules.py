"""Schedules f(epoch) of Algorithm 1: the portion of the singular values below the MP threshold
that is *kept* at a pruning round (step 9 removes the portion 1 - f(epoch)). Paper 000 uses
linear decays f(epoch) = max(0, 1 - epoch / T):

* (3.5)  T = 30   (Example 3.1, fully connected, MNIST)
* (3.6)  T = 60   (Example 3.2, fully connected, Fashion-MNIST)
* (3.8)  T = 20   (Example 3.3, CNN, MNIST)
* (3.9)  T = 60   (Example 3.4, CNN, Fashion-MNIST)
* (3.11) T = 200  (Example 3.5, CNN, CIFAR-10; the text says "smaller than lambda_+" there,
                   read as sqrt(lambda_+) like everywhere else)
* "300-epoch" T = 1000 (Section 3.2.1, the 91.27% Fashion-MNIST run; unnumbered equation)
* "remove-all" f = 0: every singular value below the MP threshold removed at every round (not a
  schedule of the paper: the ablation of Section 3.1.3's "removing all ... may underfit",
  ``sims.remove_all_ablation``)

Algorithm 1 requires f to decrease monotonically from 1 to 0; ``resolve_schedule`` accepts any
callable and checks values lie in [0, 1] at call time (in ``kept_small_count``).
"""
from __future__ import annotations

from typing import Callable


def linear_schedule(horizon: float) -> Callable[[float], float]:
    """f(epoch) = max(0, 1 - epoch / horizon)."""
    if not horizon > 0:
        raise ValueError(f"horizon must be positive, got {horizon}")

    def f(epoch: float) -> float:
        return max(0.0, -epoch / horizon + 1.0)

    f.__name__ = f"linear_schedule_{horizon:g}"
    f.__doc__ = f"max(0, 1 - epoch / {horizon:g})"
    return f


def schedule_3_5(epoch: float) -> float:
    """(3.5): max(0, -epoch/30 + 1)."""
    return max(0.0, -epoch / 30 + 1.0)


def schedule_3_6(epoch: float) -> float:
    """(3.6): max(0, -epoch/60 + 1)."""
    return max(0.0, -epoch / 60 + 1.0)


def schedule_3_8(epoch: float) -> float:
    """(3.8): max(0, -epoch/20 + 1)."""
    return max(0.0, -epoch / 20 + 1.0)


def schedule_3_9(epoch: float) -> float:
    """(3.9): max(0, -epoch/60 + 1)."""
    return max(0.0, -epoch / 60 + 1.0)


def schedule_3_11(epoch: float) -> float:
    """(3.11): max(0, -epoch/200 + 1)."""
    return max(0.0, -epoch / 200 + 1.0)


def schedule_300_epochs(epoch: float) -> float:
    """Section 3.2.1, 300-epoch run: max(0, -epoch/1000 + 1)."""
    return max(0.0, -epoch / 1000 + 1.0)


def constant_schedule(keep: float) -> Callable[[float], float]:
    """f(epoch) = keep; paper 001 keeps 55% (removes 45%) of the small singular values."""
    if not 0.0 <= keep <= 1.0:
        raise ValueError(f"keep fraction must lie in [0, 1], got {keep}")
    return lambda epoch: keep


def schedule_remove_all(epoch: float) -> float:
    """f = 0 at every round: no small singular value kept (ablation, not a paper schedule)."""
    return 0.0


SCHEDULES: dict[str, Callable[[float], float]] = {
    "3.5": schedule_3_5,
    "3.6": schedule_3_6,
    "3.8": schedule_3_8,
    "3.9": schedule_3_9,
    "3.11": schedule_3_11,
    "300-epoch": schedule_300_epochs,
    "remove-all": schedule_remove_all,
}


def resolve_schedule(schedule) -> Callable[[float], float]:
    """A schedule from its equation number (``"3.6"``) or any callable epoch -> f."""
    if callable(schedule):
        return schedule
    if isinstance(schedule, str) and schedule in SCHEDULES:
        return SCHEDULES[schedule]
    raise ValueError(f"unknown schedule {schedule!r}; give a callable or one of {sorted(SCHEDULES)}")
