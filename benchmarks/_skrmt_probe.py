"""Run INSIDE a separate interpreter that has scikit-rmt (it pins an older numpy, so it never enters
the project's venv): times its Marchenko-Pastur cdf and ppf on points read from stdin (JSON) and
prints timings and values as JSON. Used by benchmarks/bench_theory.py."""
import json
import sys
import time

import numpy as np
from skrmt.ensemble.spectral_law import MarchenkoPasturDistribution


def best(fn, repeats):
    t_best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        t_best = min(t_best, time.perf_counter() - start)
    return t_best


job = json.load(sys.stdin)
out = {}
for case in job["cases"]:
    law = MarchenkoPasturDistribution(ratio=case["ratio"], beta=1, sigma=1.0)
    x = np.array(case["x"])
    q = np.array(case["q"])
    check = np.array(case["check"])
    out[str(case["ratio"])] = dict(
        cdf_s=best(lambda: law.cdf(x), job["repeats"]),
        ppf_s=best(lambda: law.ppf(q), 1),
        cdf_check=np.asarray(law.cdf(check), dtype=float).tolist(),
    )
print(json.dumps(out))
