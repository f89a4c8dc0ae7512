"""nets.layers: the split rule of Algorithm 1 step 11, r (n + m) < n m, at and around equality."""
from __future__ import annotations

import math

import pytest

from nets.layers import max_saving_rank, split_saves_parameters


@pytest.mark.parametrize("n_out, n_in, rank", [(4, 4, 2), (6, 3, 2), (12, 6, 4), (10, 15, 6), (2, 2, 1)])
def test_equality_does_not_save(n_out, n_in, rank):
    # r (n + m) = n m exactly: the two factors hold as many weights as W', so no saving (strict <)
    assert rank * (n_out + n_in) == n_out * n_in
    assert not split_saves_parameters(n_out, n_in, rank)
    assert split_saves_parameters(n_out, n_in, rank - 1) == (rank >= 1)
    assert max_saving_rank(n_out, n_in) == rank - 1


def test_rule_and_max_rank_on_a_grid():
    for n_out in range(1, 30):
        for n_in in range(1, 30):
            ranks = [r for r in range(0, min(n_out, n_in) + 2) if split_saves_parameters(n_out, n_in, r)]
            expected = [r for r in range(0, min(n_out, n_in) + 2) if r * (n_out + n_in) < n_out * n_in]
            assert ranks == expected
            assert max_saving_rank(n_out, n_in) == math.ceil(n_out * n_in / (n_out + n_in)) - 1
            assert max_saving_rank(n_out, n_in) == (max(ranks) if ranks else -1)
