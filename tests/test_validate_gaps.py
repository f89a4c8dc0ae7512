"""core.validate: both ends of every interval check, the exact messages the CLI shows, and the
return types (issue 24: the gaps a mutation run found).  The messages are the module's contract
(its docstring: "n must be an integer in [2, 1000000], got 0"), so they are compared word for word."""
import math

import numpy as np
import pytest

from core.validate import (InvalidArgument, check_allocation, check_choice, check_float, check_int,
                           check_positive, check_probability, check_real_array)

UP = math.inf


def _message(call, *args, **kw):
    with pytest.raises(InvalidArgument) as info:
        call(*args, **kw)
    assert isinstance(info.value, ValueError)
    return str(info.value)


# --- check_int --------------------------------------------------------------------------------

def test_check_int_accepts_both_ends_and_returns_a_python_int():
    assert check_int("n", 1, 1, 10) == 1
    assert check_int("n", 10, 1, 10) == 10
    out = check_int("n", np.int64(7), 1, 10)
    assert out == 7 and type(out) is int
    assert check_int("n", -(10**30)) == -(10**30)  # no bounds: any integer
    assert check_int("n", 10**30, lo=0) == 10**30
    assert check_int("n", -5, hi=0) == -5


def test_check_int_refuses_one_past_each_end_with_the_exact_message():
    assert _message(check_int, "n", 0, 1, 10) == "n must be an integer in [1, 10], got 0"
    assert _message(check_int, "n", 11, 1, 10) == "n must be an integer in [1, 10], got 11"
    assert _message(check_int, "k", -1, 0, None) == "k must be an integer in [0, inf], got -1"
    assert _message(check_int, "k", 1, None, 0) == "k must be an integer in [-inf, 0], got 1"


@pytest.mark.parametrize("bad,shown", [(2.0, "2.0"), (True, "True"), (np.bool_(False), repr(np.bool_(False))),
                                       ("3", "'3'"), (None, "None")])
def test_check_int_refuses_non_integers_with_their_repr(bad, shown):
    assert _message(check_int, "n", bad, 1, 10) == f"n must be an integer in [1, 10], got {shown}"


# --- check_float ------------------------------------------------------------------------------

def test_check_float_closed_ends_accept_the_end_points_and_refuse_the_next_float():
    assert check_float("x", 0.0, 0.0, 1.0) == 0.0
    assert check_float("x", 1.0, 0.0, 1.0) == 1.0
    below, above = np.nextafter(0.0, -1.0), np.nextafter(1.0, 2.0)
    assert _message(check_float, "x", below, 0.0, 1.0) == f"x must be in [0.0, 1.0], got {float(below)!r}"
    assert _message(check_float, "x", above, 0.0, 1.0) == f"x must be in [0.0, 1.0], got {float(above)!r}"


def test_check_float_open_ends_refuse_the_end_points_and_accept_the_next_float():
    kw = dict(lo_open=True, hi_open=True)
    assert _message(check_float, "x", 0.0, 0.0, 1.0, **kw) == "x must be in (0.0, 1.0), got 0.0"
    assert _message(check_float, "x", 1.0, 0.0, 1.0, **kw) == "x must be in (0.0, 1.0), got 1.0"
    inside_lo, inside_hi = float(np.nextafter(0.0, 1.0)), float(np.nextafter(1.0, 0.0))
    assert check_float("x", inside_lo, 0.0, 1.0, **kw) == inside_lo
    assert check_float("x", inside_hi, 0.0, 1.0, **kw) == inside_hi


def test_check_float_one_open_end_at_a_time():
    assert check_float("x", 1.0, 0.0, 1.0, lo_open=True) == 1.0
    assert _message(check_float, "x", 0.0, 0.0, 1.0, lo_open=True) == "x must be in (0.0, 1.0], got 0.0"
    assert check_float("x", 0.0, 0.0, 1.0, hi_open=True) == 0.0
    assert _message(check_float, "x", 1.0, 0.0, 1.0, hi_open=True) == "x must be in [0.0, 1.0), got 1.0"


def test_check_float_without_bounds_and_return_type():
    out = check_float("x", 3)
    assert out == 3.0 and type(out) is float
    out = check_float("x", np.float32(0.5))
    assert out == 0.5 and type(out) is float
    assert check_float("x", -1e300) == -1e300
    assert check_float("x", 5.0, lo=1.0) == 5.0
    assert check_float("x", -5.0, hi=1.0) == -5.0


def test_check_float_infinity_only_when_allowed():
    assert _message(check_float, "x", UP) == "x must be a finite real number in [-inf, inf], got inf"
    assert _message(check_float, "x", -UP, 0.0, None) == "x must be a finite real number in [0.0, inf], got -inf"
    assert check_float("x", UP, allow_inf=True) == UP
    assert check_float("x", -UP, allow_inf=True) == -UP
    assert check_float("x", UP, 0.0, None, allow_inf=True) == UP
    # allowed infinities still obey the interval
    assert _message(check_float, "x", UP, 0.0, 1.0, allow_inf=True) == "x must be in [0.0, 1.0], got inf"
    assert _message(check_float, "x", math.nan, allow_inf=True) == \
        "x must be a finite real number in [-inf, inf], got nan"


@pytest.mark.parametrize("bad,shown", [(True, "True"), (np.bool_(True), repr(np.bool_(True))), ("1.0", "'1.0'"),
                                       (1 + 0j, "(1+0j)"), (None, "None")])
def test_check_float_refuses_non_reals_with_their_repr(bad, shown):
    assert _message(check_float, "s", bad, 0.0, 1.0) == f"s must be a real number in [0.0, 1.0], got {shown}"


def test_check_positive_is_the_open_half_line():
    tiny = 5e-324
    assert check_positive("var", tiny) == tiny
    assert check_positive("var", 1e308) == 1e308
    # (the upper end is printed "inf]": no upper bound, not an accepted infinity)
    assert _message(check_positive, "var", 0.0) == "var must be in (0.0, inf], got 0.0"
    assert _message(check_positive, "var", -tiny) == f"var must be in (0.0, inf], got {-tiny!r}"
    assert _message(check_positive, "var", UP) == "var must be a finite real number in (0.0, inf], got inf"


def test_check_probability_open_and_closed():
    eps_lo, eps_hi = float(np.nextafter(0.0, 1.0)), float(np.nextafter(1.0, 0.0))
    assert check_probability("p", eps_lo) == eps_lo and check_probability("p", eps_hi) == eps_hi
    assert _message(check_probability, "p", 0.0) == "p must be in (0.0, 1.0), got 0.0"
    assert _message(check_probability, "p", 1.0) == "p must be in (0.0, 1.0), got 1.0"
    assert check_probability("p", 0.0, open_ends=False) == 0.0
    assert check_probability("p", 1.0, open_ends=False) == 1.0
    above = float(np.nextafter(1.0, 2.0))
    assert _message(check_probability, "p", above, open_ends=False) == f"p must be in [0.0, 1.0], got {above!r}"
    assert _message(check_probability, "p", -eps_lo, open_ends=False) == f"p must be in [0.0, 1.0], got {-eps_lo!r}"


# --- check_choice -----------------------------------------------------------------------------

def test_check_choice():
    token = object()
    assert check_choice("mode", token, [1, token]) is token
    assert check_choice("mode", "b", (c for c in "abc")) == "b"  # any iterable, read once
    assert _message(check_choice, "mode", "z", ["a", "b"]) == "mode must be one of ('a', 'b'), got 'z'"


# --- check_real_array -------------------------------------------------------------------------

def test_check_real_array_casts_to_float64():
    out = check_real_array("x", [1, 2, 3])
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0, 3.0]
    out = check_real_array("x", np.array([True, False]))
    assert out.dtype == np.float64 and out.tolist() == [1.0, 0.0]
    out = check_real_array("x", np.float32([0.25]))
    assert out.dtype == np.float64 and out.tolist() == [0.25]


@pytest.mark.parametrize("bad,dtype", [(np.array([1, "a"], dtype=object), "object"),
                                       (np.array(["a", "b"]), "<U1"), (["1.0"], "<U3")])
def test_check_real_array_refuses_non_numbers(bad, dtype):
    assert _message(check_real_array, "x", bad) == f"x must be an array of real numbers, got dtype {dtype}"


def test_check_real_array_refuses_complex_even_with_zero_imaginary_part():
    assert _message(check_real_array, "x", np.array([1.0 + 0j])) == "x must be real, got a complex array"


def test_check_real_array_dimensions():
    assert check_real_array("x", np.zeros((2, 3)), ndim=2).shape == (2, 3)
    assert check_real_array("x", np.zeros(3), ndim=(1, 2)).shape == (3,)
    assert check_real_array("x", np.zeros((1, 1)), ndim=(1, 2)).shape == (1, 1)
    assert _message(check_real_array, "x", np.zeros(3), ndim=2) == "x must have 2 dimension(s), got shape (3,)"
    assert _message(check_real_array, "x", np.zeros((1, 1, 1)), ndim=(1, 2)) == \
        "x must have 1 or 2 dimension(s), got shape (1, 1, 1)"
    assert check_real_array("x", np.zeros((1, 1, 1))).ndim == 3  # ndim=None: any


def test_check_real_array_size():
    assert check_real_array("x", []).size == 0  # min_size defaults to 0: empty arrays pass
    assert check_real_array("x", [1.0, 2.0], min_size=2).size == 2
    assert _message(check_real_array, "x", [1.0], min_size=2) == "x must hold at least 2 values, got 1"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_real_array_finiteness(bad):
    assert _message(check_real_array, "x", [0.0, bad]) == "x must be finite (no NaN or inf)"
    out = check_real_array("x", [0.0, bad], finite=False)
    assert out[0] == 0.0 and (out[1] == bad or (math.isnan(bad) and math.isnan(out[1])))


# --- check_allocation -------------------------------------------------------------------------

def test_check_allocation_accepts_exactly_the_limit_and_refuses_one_more_element():
    assert check_allocation("size", 2**29) is None  # 2^29 float64 = 4 GiB, the default limit
    assert _message(check_allocation, "size", 2**29 + 1) == \
        "size would need 4 GiB (limit 4 GiB); ask for fewer elements or chunk the call"
    assert check_allocation("size", 2**30, bytes_per_element=4) is None
    assert _message(check_allocation, "size", 2**30 + 1, bytes_per_element=4).startswith("size would need 4 GiB")
    assert check_allocation("n", 100, limit_bytes=800) is None
    assert _message(check_allocation, "n", 101, limit_bytes=800) == \
        "n would need 7.53e-07 GiB (limit 7.45e-07 GiB); ask for fewer elements or chunk the call"


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_check_allocation_refuses_non_finite_sizes(bad):
    assert _message(check_allocation, "size", bad).startswith(f"size would need {bad} GiB")
