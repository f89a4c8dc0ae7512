"""Exact random-matrix formulas behind MP-based pruning (paper 000, Berlyand et al. 2024).

Pure numpy/scipy/sympy: this package never imports torch. Each module is one paper object:

- ``marchenko_pastur``: the MP law, Theorem 3.1, eqs. (3.2)-(3.3)
- ``tracy_widom``: TW_1, TW_2 and TW_4 (Section D.1); tables in ``tw_tables``
- ``bema``: BEMA, Algorithm 2, and the MP fit test, Algorithm 4
- ``spiked``: spiked-model asymptotics, Theorems A.1-A.4
- ``approximation``: f_W of the Approximation Lemma B.2, (B.6), (B.7)=(4.24), (4.25)
- ``shrinkage``: optimal hard threshold (Gavish-Donoho 2014), optimal shrinkers (2017), OptShrink
- ``shrinkage_symbolic``: the Approximation Lemma's limits for every shrinkage rule
- ``symbolic``: sympy checks of the algebra

``python -m theory`` prints a self-check table.

Everything is importable from the package itself, loaded on first use (``import theory`` stays
fast and loads neither sympy nor the TW tables until asked)::

    >>> import theory
    >>> theory.MarchenkoPastur(ratio=0.5).upper        # (1 + sqrt(1/2))^2
    2.914213562373095
    >>> round(float(theory.tracy_widom.ppf(0.9, beta=1)), 4)
    0.4501
    >>> sorted(set(theory.__all__) - set(SUBMODULES))
    ['BemaFit', 'MarchenkoPastur', 'TracyWidom']
"""
import importlib

SUBMODULES = ("approximation", "approximation_symbolic", "bema", "marchenko_pastur", "norm_predictions",
              "powerlaw_alpha", "pruning_bounds", "shrinkage", "shrinkage_symbolic", "spiked", "symbolic",
              "tracy_widom", "tw_tables")
# the package's main objects: name -> the module that defines it
OBJECTS = {"MarchenkoPastur": "marchenko_pastur", "TracyWidom": "tracy_widom", "BemaFit": "bema"}

__all__ = [*SUBMODULES, *OBJECTS]


def __getattr__(name: str):
    """Lazy attribute access (PEP 562): ``theory.bema`` imports ``theory.bema`` on first use."""
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in OBJECTS:
        return getattr(importlib.import_module(f"{__name__}.{OBJECTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
