"""The Examples sections of the public API's docstrings run as doctests in the default suite
(``make test``), so an example that stops working fails CI. Each module is listed explicitly: a
module that loses all its examples fails too (a doctest run that finds nothing cannot fail).

The examples' expected values come from outside the implementation: closed forms (MP edges,
mean and variance), published tables (Tracy-Widom quantiles, Johnstone 2001 Table 1; moments,
Bornemann 2010), or planted structure (a rank-3 signal far above the noise edge is kept at rank 3
at any seed: its singular values are ~ |u||v|/2 ~ 70 against an edge ~ 0.2 (10 + 14) ~ 5)."""
from __future__ import annotations

import doctest
import importlib
import warnings

import pytest

MODULES = {            # module -> the least number of examples it must hold
    "theory": 3,
    "theory.bema": 3,
    "theory.marchenko_pastur": 5,
    "theory.tracy_widom": 4,
    "nets.prune": 20,
    "nets.spectral_report": 3,
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)          # every example passes tau explicitly
        warnings.simplefilter("error", DeprecationWarning)     # and uses the current names
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                                 raise_on_error=False, report=True, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see stdout)"
    assert result.attempted >= MODULES[name], f"{name} has {result.attempted} examples"


def test_public_api_documents_parameters_returns_and_examples():
    import nets
    import theory
    documented = [nets.mp_decide, nets.mp_prune, nets.prune_model, nets.factorize,
                  nets.load_pruned_state_dict, theory.bema.fit, theory.MarchenkoPastur, theory.TracyWidom]
    for obj in documented:
        doc = obj.__doc__ or ""
        assert "Examples\n" in doc and ">>> " in doc, obj.__qualname__
        assert "Parameters\n" in doc, obj.__qualname__
    for obj in (nets.mp_decide, nets.mp_prune, nets.prune_model, nets.factorize, nets.load_pruned_state_dict,
                theory.bema.fit):
        assert "Returns\n" in obj.__doc__, obj.__qualname__
