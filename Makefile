# Two entry points for a newcomer: `make run` (main job) and `make test` (test suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow bench data reproduce reproduce-long report mutation clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m sims.spiked_model

test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

test-slow: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) -m benchmarks

# Fashion-MNIST for the Section 3 experiments (not needed by `make run` or `make test`): Debian's
# package where apt exists; elsewhere put the four IDX files in a directory and set
# RMT_FASHION_MNIST_DIR or pass --data-dir.
data:
	@if [ -d /usr/share/datasets/fashion-mnist ]; then echo "Fashion-MNIST: /usr/share/datasets/fashion-mnist"; \
	elif command -v apt-get >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq dataset-fashion-mnist; fi; \
	else echo "no apt-get here: put the four Fashion-MNIST IDX files in a directory and set RMT_FASHION_MNIST_DIR (or pass --data-dir)" >&2; exit 2; fi

# The committed Results (results/), each rerun with exactly the command in its provenance, then
# FINDINGS.md rebuilt from them.  tests/test_reproduce_list.py checks that every committed Result's
# command is listed here.  `reproduce`: the CPU-feasible ones (minutes each on one core);
# `reproduce-long`: those that take longer than ~15 minutes on a 2-core machine, or that train from
# scratch what the committed Result read from a run cache (Section 3, ladders, shrinkage).
reproduce: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m sims.approximation_lemma --large --spikes 2 3 5 --json results/approximation_lemma_large_moderate.json
	OMP_NUM_THREADS=1 $(PY) -m sims.approximation_lemma --large --spikes 30 40 50 60 70 --json results/approximation_lemma_large_paper.json
	OMP_NUM_THREADS=1 $(PY) -m sims.approximation_lemma --paper --threads 1 --json results/approximation_lemma_paper.json
	OMP_NUM_THREADS=1 $(PY) -m sims.bema_checks --json results/bema_checks.json --threads 1
	OMP_NUM_THREADS=1 $(PY) -m nets.appendix_e3 --redecide-from results/nets/appendix_e3.json --threads 1 --json results/nets/appendix_e3.json
	OMP_NUM_THREADS=1 $(PY) -m nets.paper003 --redecide-from results/nets/paper003.json --threads 1 --json results/nets/paper003.json
	OMP_NUM_THREADS=1 $(PY) -m nets.remove_all --redecide-from results/nets/remove_all.json --threads 1 --json results/nets/remove_all.json
	OMP_NUM_THREADS=1 $(PY) -m nets.paper001 --redecide-from results/paper001.json --threads 1 --json results/paper001.json
	OMP_NUM_THREADS=1 $(PY) -m sims.paper004_lemmas --json results/paper004_lemmas.json
	OMP_NUM_THREADS=1 $(PY) -m sims.paper004_side_by_side --threads 1 --json results/paper004_side_by_side.json
	OMP_NUM_THREADS=1 $(PY) -m sims.paper004_theorems --threads 1 --json results/paper004_theorems.json
	OMP_NUM_THREADS=1 $(PY) -m sims.paper_claims --json results/paper_claims.json
	OMP_NUM_THREADS=1 $(PY) -m nets.posttraining --nets 2 --final-activation relu none --json results/posttraining.json
	OMP_NUM_THREADS=1 $(PY) -m sims.pruning_pipeline_check --json results/pruning_pipeline_check.json --threads 1
	OMP_NUM_THREADS=1 $(PY) -m sims.pruning_theorem --json results/pruning_theorem.json --threads 1
	OMP_NUM_THREADS=1 $(PY) -m sims.section_3_2_1 --seeds 1 --redecide-from results/section3/claims_3_2_1.json --threads 1 --json results/section3/claims_3_2_1.json
	OMP_NUM_THREADS=1 $(PY) -m sims.appendix_e2 --redecide-from results/section3/e2.json --threads 1 --json results/section3/e2.json
	OMP_NUM_THREADS=1 $(PY) -m sims.appendix_e2 --redecide-from results/section3/e2_w20.json --threads 1 --json results/section3/e2_w20.json
	OMP_NUM_THREADS=1 $(PY) -m sims.example_3_4 --seeds 1 --redecide-from results/section3/ex3.4.json --threads 1 --json results/section3/ex3.4.json
	OMP_NUM_THREADS=1 $(PY) -m sims.remark_3_1 --redecide-from results/section3/remark_3_1.json --threads 1 --json results/section3/remark_3_1.json
	OMP_NUM_THREADS=1 $(PY) -m nets.section3 static --threads 1 --json results/section3/static.json
	OMP_NUM_THREADS=1 $(PY) -m sims.spiked_model --quick --jobs 1 --threads 1 --json results/smoke/spiked_model_quick.json
	OMP_NUM_THREADS=1 $(PY) -m sims.spiked_model --threads 1 --json results/spiked_model.json
	OMP_NUM_THREADS=1 $(PY) -m sims.spiked_model --engine banded --n 1000000 --trials 2 --json results/spiked_model_banded_n1e6.json
	OMP_NUM_THREADS=1 $(PY) -m sims.spiked_model --paper --threads 1 --json results/spiked_model_paper.json
	OMP_NUM_THREADS=1 $(PY) -m theory --json results/theory.json
	OMP_NUM_THREADS=1 $(PY) -m sims.wigner --threads 1 --json results/wigner.json
	OMP_NUM_THREADS=1 $(PY) -m sims.wigner --n 500 1000 2000 --threads 1 --json results/wigner_n2000.json
	$(PY) -m figures.report

reproduce-long: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m nets.vit --seeds 0 1 2 --out runs/vit --epochs 6 --n-train 30000
	OMP_NUM_THREADS=1 $(PY) -m nets.vit --seeds 0 1 2 --out runs/vit003 --epochs 10 --n-train 30000
	OMP_NUM_THREADS=1 $(PY) -m sims.e4_problem --json results/e4_problem.json
	OMP_NUM_THREADS=1 $(PY) -m sims.paper003_frontier --vit-dirs runs/vit003/seed0 runs/vit003/seed1 runs/vit003/seed2 --threads 1 --json results/nets/paper003_frontier.json
	OMP_NUM_THREADS=1 $(PY) -m nets.weightwatcher_compare --vit-dir runs/vit/seed0 --json results/nets/weightwatcher.json
	OMP_NUM_THREADS=1 $(PY) -m sims.qian_klabjan --json results/qian_klabjan.json
	# Example 3.2a at paper scale, seed pairs (issue 22): each arm takes one core for 70 epochs (the
	# `status` of scripts/paper_scale_cpu.sh prints the measured epoch time and the finish); that script
	# runs the two arms side by side and resumes them (`--resume` starts from epoch 0 where there is no
	# checkpoint).  Each line is the argv its Result records (seed 0 was resumed, seeds 1 and 2 ran through).
	OMP_NUM_THREADS=1 $(PY) -m nets.train ex3.2a --scale paper --seed 0 --threads 1 --quiet --out runs/paper_scale/ex3.2a/seed0/pruned --json results/section3/paper_scale_cpu/ex3.2a/seed0_pruned.json --resume
	OMP_NUM_THREADS=1 $(PY) -m nets.train ex3.2a --scale paper --seed 0 --threads 1 --quiet --out runs/paper_scale/ex3.2a/seed0/unpruned --json results/section3/paper_scale_cpu/ex3.2a/seed0_unpruned.json --no-prune --resume
	OMP_NUM_THREADS=1 $(PY) -m nets.train ex3.2a --scale paper --seed 1 --threads 1 --quiet --out runs/paper_scale/ex3.2a/seed1/pruned --json results/section3/paper_scale_cpu/ex3.2a/seed1_pruned.json
	OMP_NUM_THREADS=1 $(PY) -m nets.train ex3.2a --scale paper --seed 1 --threads 1 --quiet --out runs/paper_scale/ex3.2a/seed1/unpruned --json results/section3/paper_scale_cpu/ex3.2a/seed1_unpruned.json --no-prune
	OMP_NUM_THREADS=1 $(PY) -m nets.train ex3.2a --scale paper --seed 2 --threads 1 --quiet --out runs/paper_scale/ex3.2a/seed2/pruned --json results/section3/paper_scale_cpu/ex3.2a/seed2_pruned.json
	OMP_NUM_THREADS=1 $(PY) -m nets.train ex3.2a --scale paper --seed 2 --threads 1 --quiet --out runs/paper_scale/ex3.2a/seed2/unpruned --json results/section3/paper_scale_cpu/ex3.2a/seed2_unpruned.json --no-prune
	OMP_NUM_THREADS=1 $(PY) -m sims.paper_scale_pairs --json results/section3/paper_scale_cpu/ex3.2a.json
	OMP_NUM_THREADS=1 $(PY) -m sims.example_3_2 --topology a --seeds 15 --controls linear-output he xavier hidden-only random-output-projection random-output-projection-rowspace revive-dead-outputs revive-never-predicted --control-seeds 10 --threads 1 --json results/section3/ex3.2a.json
	OMP_NUM_THREADS=1 $(PY) -m sims.example_3_2 --topology b --seeds 15 --controls linear-output --control-seeds 10 --threads 1 --json results/section3/ex3.2b.json
	OMP_NUM_THREADS=1 $(PY) -m sims.example_3_2 --topology c --seeds 15 --controls linear-output --control-seeds 10 --threads 1 --json results/section3/ex3.2c.json
	OMP_NUM_THREADS=1 $(PY) -m nets.section3 ladder --widths 40 20 10 --seeds 3 --threads 1 --json results/section3/ladder.json
	OMP_NUM_THREADS=1 $(PY) -m nets.section3 ladder --widths 40 20 --seeds 3 --n-train 60000 --json results/section3/ladder_full.json
	OMP_NUM_THREADS=1 $(PY) -m sims.shrinkage --json results/shrinkage.json --cache runs/shrinkage_cache
	OMP_NUM_THREADS=1 $(PY) -m sims.shrinkage_pruning --json results/shrinkage_pruning.json --threads 1
	OMP_NUM_THREADS=1 $(PY) -m sims.shrinkage_training --json results/shrinkage_training.json --cache runs/shrinkage_training
	$(PY) -m figures.report

# Mutation testing (issue 24), not part of `make test`: mutmut over theory/marchenko_pastur.py,
# bema.py, pruning_bounds.py, core/validate.py and nets/prune.py, each in a copy of the tree against
# the tests that reach it, one worker; writes runs/mutation/scores.md and survivors.txt (survivors
# not listed in mutation/equivalent.tsv).  MODULES="core/validate.py ..." runs a subset.
mutation: $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e '.[mutation]'
	OMP_NUM_THREADS=1 nice -n 15 $(PY) mutation/run.py $(if $(MODULES),--only $(MODULES))

report: $(STAMP)
	$(PY) -m figures.report

clean:
	rm -rf $(VENV) build *.egg-info
