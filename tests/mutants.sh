#!/bin/bash
# Issue 10 mutation check: applies each of the four audit survivors in turn, runs the test named
# to kill it, restores the file.  Each line must end in "failed".  Usage: bash tests/mutants.sh
cd "$(dirname "$0")/.."; export OMP_NUM_THREADS=1
bak=$(mktemp); trap 'rm -f "$bak"' EXIT
mut() { file=$1; from=$2; to=$3; test=$4
  cp $file "$bak"
  python3 - "$file" "$from" "$to" <<'PY'
import sys; p,a,b=sys.argv[1:]; s=open(p).read(); assert s.count(a)==1,(p,a); open(p,'w').write(s.replace(a,b))
PY
  out=$(.venv/bin/python -m pytest -q -p no:cacheprovider "$test" 2>&1 | tail -1)
  cp "$bak" $file
  echo "$file: '$from' -> '$to' :: $test :: $out"
}
mut theory/pruning_bounds.py "removed = sv <= threshold if inclusive else sv < threshold" "removed = sv <= threshold if inclusive else sv <= threshold" tests/test_pruning_bounds.py::test_truncation_at_an_exact_tie
mut theory/pruning_bounds.py "removed = sv <= threshold if inclusive else sv < threshold" "removed = sv < threshold if inclusive else sv < threshold" tests/test_pruning_bounds.py::test_truncation_at_an_exact_tie
mut sims/linalg.py "    return torch.minimum(above, diffs)" "    return diffs" tests/test_linalg.py::test_certificate_of_a_near_degenerate_pair
mut sims/stats.py "proportion_ci(confidence_level=level," "proportion_ci(confidence_level=0.95," tests/test_sims_stats.py::test_proportion_ci_honours_level
mut nets/layers.py "return factorized_weight_count(n_out, n_in, rank) < dense_weight_count(n_out, n_in)" "return factorized_weight_count(n_out, n_in, rank) <= dense_weight_count(n_out, n_in)" tests/test_layers.py
