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
"""
