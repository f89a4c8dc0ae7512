"""Suite-wide settings.

Torch runs single-threaded in tests: the test matrices are small, so intra-op threads only add
overhead, and on a shared 2-core machine spin-waiting BLAS/OpenMP threads made LAPACK calls
10-600x slower (measured by several of us: a 200x200 eigvalsh took 6.4 s instead of ~10 ms).
"""
import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _single_thread_torch():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
