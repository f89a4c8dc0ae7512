"""Put on PYTHONPATH by tests/conftest.py when the suite runs with a seed shift: every Python
subprocess the tests start applies the same shift (tests/seed_shift.py), to numpy and torch when
(and only if) the subprocess imports them."""
import os

if int(os.environ.get("RMT_SEED_SHIFT", "0") or 0):
    from tests import seed_shift

    seed_shift.install_when_imported(seed_shift.SEED_STRIDE * seed_shift.from_environment())
