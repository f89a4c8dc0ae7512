"""The registry of experiments: every module that turns runs into verdicts, with the claims it checks.

``python -m sims --list`` prints it.  Each ``Entry`` names the module, says in one line what it
checks, and declares the claim ids (``core/claims.json``) its verdicts may carry.  The declaration
is enforced twice:

* at birth: while an experiment runs (``sims.experiment.ExperimentRun``, or its command line through
  ``core.cli.run``), a ``core.result.Verdict`` on an id that is not in the registry, or that the
  experiment did not declare, raises ``ValueError`` at once (``core.claims.check_at_birth``);
* in the suite: ``tests/test_registry.py`` checks that ``checked_by`` in ``core/claims.json`` is
  exactly these declarations (so it is maintained here and checked there, never twice by hand), and
  runs every typed experiment at toy size, checking its Result against the schema and the
  declaration.

How to register a new experiment (for example ``sims.my_check``):

1. write ``sims/my_check.py`` with a frozen dataclass ``Config`` whose fields are made with
   ``sims.experiment.option`` (help text and valid range; they become the flags ``--field``), a
   ``run(config, *, context=None) -> Result`` that opens ``sims.experiment.ExperimentRun`` (or uses
   the ``context`` it is given), a ``toy_config(tmp_path)`` that runs in seconds (its run cache, if
   any, under ``tmp_path``), and
   ``if __name__ == "__main__": sys.exit(sims.experiment.cli_main("sims.my_check"))``;
2. add ``Entry("sims.my_check", "one line", ("000:lemma:4.1", ...))`` to ``EXPERIMENTS`` below;
3. put ``"sims.my_check"`` in the ``checked_by`` of those claims in ``core/claims.json`` (the test
   tells you which ones are missing).

How a claim id travels, e.g. ``000:table:3.4``:

1. declared here (``Entry("sims.example_3_2", ..., ("000:table:3.4", ...), checked_by="nets.section3")``)
   and in ``core/claims.json`` (``checked_by``: the test keeps the two equal);
2. ``sims.example_3_2.run`` opens ``ExperimentRun("sims.example_3_2", ...)``: a ``Verdict`` on an id
   that is not registered or not declared raises at once (``core.claims.check_at_birth``);
3. the Result (named ``nets.section3.example_3_2``, with its command line) is written to
   ``results/section3/ex3.2a.json`` and checked again on writing;
4. ``figures.report`` joins each stored verdict with ``core/claims.json`` (a Result may only carry
   verdicts on claims whose ``checked_by`` names it) and prints the row under the claim in FINDINGS.md.

Every entry is a typed unit (Config, run, toy_config).  Entries whose ``checked_by`` differs from
the module are experiments whose committed Results (and ``core/claims.json``) carry an older name:
the experiments moved out of ``nets/`` (the old module stays a thin alias so that each Result's
``provenance.argv`` still reruns it) and ``sims.theory_self_check``, whose Result is ``python -m
theory``'s (theory/ may not import the experiment layer, so its command line stays there).
"""
from __future__ import annotations

from dataclasses import dataclass

from core import claims as claims_registry


@dataclass(frozen=True)
class Entry:
    """One registered experiment: its module, one line on what it checks, the claim ids it
    declares, ``checked_by`` (the name ``core/claims.json`` lists it under: the module, or the old
    module name its committed Results still carry) and ``extra``, an optional dependency its run
    needs (without it the run is refused in one line naming it, which the registry's test checks)."""
    module: str
    summary: str
    claims: tuple[str, ...]
    checked_by: str = ""
    extra: str | None = None  # the optional extra (importable module) its run needs, if any

    def __post_init__(self):
        if not self.checked_by:
            object.__setattr__(self, "checked_by", self.module)

    def load(self):
        import importlib
        return importlib.import_module(self.module)


S3 = "nets.section3"  # the old module name of the Section 3 experiments' committed Results

EXPERIMENTS: tuple[Entry, ...] = (
    # -- theory-side Monte Carlo checks --------------------------------------------------------
    Entry("sims.theory_self_check", "exact formulas of papers 000/001 evaluated against their printed values "
          "(python -m theory)",
          ("000:theorem:3.1", "000:figure:4.2", "000:text:4.6.1",
           "000:theorem:A.1", "000:theorem:A.3", "000:theorem:A.4", "000:lemma:B.2",
           "000:example:B.1", "000:example:B.2", "000:eq:B.14"), checked_by="theory"),
    Entry("sims.spiked_model", "spiked-model outliers and singular vectors against Theorems A.1-A.4",
          ("000:text:4.6.1", "000:theorem:A.1", "000:theorem:A.3", "000:theorem:A.4", "000:figure:B.1")),
    Entry("sims.approximation_lemma", "the approximation lemma B.2 and Figs 4.2/4.3",
          ("000:figure:4.2", "000:figure:4.3", "000:text:4.6.2", "000:lemma:B.2",
           "000:example:B.1", "000:eq:B.14")),
    Entry("sims.wigner", "Wigner spikes of Example 4.3 / (4.25) / Fig 4.4",
          ("000:eq:4.25", "000:figure:4.4", "000:text:B.2.1")),
    Entry("sims.bema_checks", "BEMA (Algorithm 2), the MP fit test (Algorithm 4), Appendix D figures",
          ("000:algorithm:2", "000:remark:D.1", "000:figure:D.1", "000:example:D.1", "000:figure:D.2",
           "000:algorithm:4", "001:example:3.3", "001:figure:2", "001:algorithm:3.3", "001:remark:3.1",
           "001:figure:3", "001:algorithm:4.3")),
    Entry("sims.paper_claims", "remaining numerical claims of papers 000/001 (remarks, Appendix C)",
          ("000:remark:4.3", "000:remark:4.7", "000:remark:A.1", "000:theorem:A.5", "000:theorem:B.1",
           "000:eq:C.1", "000:eq:C.14", "000:theorem:C.1", "000:theorem:C.2", "000:example:D.2",
           "000:figure:D.4", "000:text:E.2.4", "001:text:4.2.1", "001:text:4.5.3", "001:text:4.5.4",
           "001:text:4.5.5", "001:text:4.5.6", "001:text:4.5.7", "000:assumption:4.3", "000:eq:4.24",
           "000:example:4.3", "000:theorem:A.2", "000:eq:C.28", "001:theorem:3.2")),
    Entry("sims.e4_problem", "the E.4 problem trained: Example 4.1, Fig 4.1, randomness over training",
          ("000:example:4.1", "000:figure:4.1", "000:text:3.1.2.1")),
    Entry("sims.pruning_theorem", "Lemmas 4.1/4.2 and Theorems 4.1/4.2 (the dX bounds of pruning)",
          ("000:lemma:4.1", "000:remark:4.1", "000:lemma:4.2", "000:remark:4.2", "000:remark:4.5",
           "000:theorem:4.1", "000:remark:4.6", "000:example:4.2", "000:figure:4.3", "000:theorem:4.2",
           "000:remark:4.11", "000:eq:C.13")),
    Entry("sims.pruning_pipeline_check", "Lemma 4.1 / Theorem 4.1 on trained nets pruned by the pipeline",
          ("000:lemma:4.1", "000:theorem:4.1")),
    Entry("sims.shrinkage", "spike shrinkage against Lemma B.2 / (B.14)", ("000:lemma:B.2", "000:eq:B.14")),
    Entry("sims.shrinkage_pruning", "shrinkage rules against MP truncation (Lemma 4.1, Algorithm 3)",
          ("000:lemma:4.1", "000:algorithm:3")),
    Entry("sims.shrinkage_training", "Algorithm 1 with shrinkage rules during training",
          ("000:algorithm:1", "000:lemma:4.1")),
    Entry("sims.qian_klabjan", "paper 004: Lemmas 3/4, Tables 2/3 (magnitude and random pruning)",
          ("004:lemma:3", "004:lemma:4", "004:table:2", "004:text:D.3.1", "004:text:D.3.2", "004:table:3")),
    Entry("sims.paper004_lemmas", "paper 004: Theorem 3, Lemmas 1/5/6/7, Table 1",
          ("004:theorem:3", "004:lemma:1", "004:lemma:5", "004:lemma:6", "004:lemma:7", "004:table:1",
           "004:text:E.2.1", "004:text:D.1.1")),
    Entry("sims.paper004_theorems", "paper 004: Theorems 1/2 and their conditions",
          ("004:theorem:1", "004:theorem:2", "004:eq:3", "004:eq:4", "004:text:B.2.1", "004:eq:19",
           "004:lemma:6")),
    Entry("sims.paper004_side_by_side", "paper 004's guarantees beside paper 000's on the same nets (no verdicts)",
          ()),
    # -- experiments on trained networks (moved out of nets/) ---------------------------------------
    Entry("sims.example_3_2", "Example 3.2 pruned vs unpruned over seeds: Tables 3.4-3.6, Figs 3.3-3.5, controls",
          ("000:table:3.4", "000:text:3.2.1", "000:example:3.2", "000:table:3.5", "000:table:3.6",
           "000:text:3.2.1.1", "000:remark:3.5", "000:figure:3.3", "000:figure:3.4", "000:figure:3.5",
           "000:text:3.2.1.2", "000:text:3.2.5", "000:text:3.2.2"), checked_by=S3),
    Entry("sims.example_3_2_paper_scale", "Example 3.2 at paper scale on one GPU (estimate, budget, no checkpoints)",
          ("000:table:3.4", "000:text:3.2.1", "000:example:3.2", "000:table:3.5", "000:table:3.6",
           "000:text:3.2.1.1", "000:remark:3.5", "000:figure:3.3", "000:figure:3.4", "000:figure:3.5",
           "000:text:3.2.1.2"), checked_by=S3),
    Entry("sims.paper_scale_pairs", "Example 3.2 at paper scale from paired CPU/GPU runs (scripts/paper_scale_cpu.sh)",
          ("000:table:3.4", "000:text:3.2.1", "000:example:3.2", "000:table:3.5", "000:table:3.6",
           "000:figure:3.5", "000:text:3.2.1.2")),
    Entry("sims.remark_3_1", "Remark 3.1: continued splitting of the factors against Algorithm 1 and unpruned "
          "(Example 3.2a, paired seeds)", ("000:remark:3.1",)),
    Entry("sims.example_3_2_widths", "Example 3.2a at several widths, the gap extrapolated to the paper's width",
          ("000:table:3.4",), checked_by=S3),
    Entry("sims.section_3_2_1", "Section 3.2.1's other Fashion-MNIST claims (GD, L1+L2, sparsification)",
          ("000:text:3.2.1.3", "000:text:3.2.1.4", "000:figure:3.6", "000:text:3.2.1.5", "000:text:3.2.1.6",
           "000:text:3.2.3", "000:text:3.2.4", "000:text:3.2.6"), checked_by=S3),
    Entry("sims.example_3_4", "Example 3.4's CNN pruned vs unpruned, sparsified after training (Figs 3.8/3.9)",
          ("000:example:3.4", "000:text:3.2.2.3", "000:figure:3.8", "000:figure:3.9", "000:text:3.2.6"),
          checked_by=S3),
    Entry("sims.parameter_counts", "parameter counts of Tables 3.2/3.5 and Examples 3.3-3.5; E.2.1's MP fit at init",
          ("000:table:3.2", "000:table:3.5", "000:text:3.2.2.1", "000:text:3.2.2.3", "000:text:3.2.3.1",
           "000:text:E.2.1"), checked_by=S3),
    Entry("sims.appendix_e2", "Appendix E.2: initialisations, sparse starts, L2 only (Fig E.1, E.2.2, E.2.3)",
          ("000:figure:E.1", "000:text:E.2.2", "000:text:E.2.3"), checked_by=S3),
    Entry("sims.remove_all_ablation", "the f = 0 ablation: remove every singular value below the MP edge",
          ("000:text:3.1.3.1", "001:text:4.4.1"), checked_by="nets.remove_all"),
    Entry("sims.paper001_examples", "paper 001 Examples 4.3-4.7 (split pruning) and their printed arithmetic",
          ("001:algorithm:4.4", "001:text:4.5.1", "001:text:4.5.2", "001:text:4.5.8"), checked_by="nets.paper001"),
    Entry("sims.appendix_e3", "Appendix E.3 regression (Figs E.3/E.4) pruned against unpruned",
          ("000:figure:E.3", "000:figure:E.4"), checked_by="nets.appendix_e3"),
    Entry("sims.paper003_abstract", "paper 003's abstract at CPU scale (ViT and MLP: randomness, removal)",
          ("003:abstract:1", "003:abstract:3", "003:abstract:4", "003:abstract:5"), checked_by="nets.paper003"),
    Entry("sims.paper003_frontier", "paper 003's own method (singular-vector sparsification, lasso cycles) "
          "against MP truncation, magnitude and random pruning: the accuracy/parameters frontier",
          ("003:abstract:1",)),
    Entry("sims.posttraining_truncation", "post-training MP truncation of the Example D.3 net (Algorithm 3)",
          ("000:algorithm:3", "001:algorithm:4.2"), checked_by="nets.posttraining"),
    Entry("sims.weightwatcher_compare", "layer spectra beside WeightWatcher's (no verdicts)", (),
          checked_by="nets.weightwatcher_compare", extra="weightwatcher"),
)


def entries() -> dict[str, Entry]:
    """The registry by module name."""
    return {e.module: e for e in EXPERIMENTS}


def declare_all() -> None:
    """Declare every entry's claims to ``core.claims`` (idempotent; ValueError on an unknown id)."""
    for e in EXPERIMENTS:
        ids = set(e.claims)
        if claims_registry.declared_claims(e.module) != frozenset(ids):
            claims_registry.declare_experiment(e.module, ids)


def listing() -> str:
    """One block per experiment: module, what it checks, its claims."""
    out = []
    for e in EXPERIMENTS:
        out.append(f"{e.module}  ({len(e.claims)} claims)\n    {e.summary}")
        if e.claims:
            out.append("    " + " ".join(e.claims))
    return "\n".join(out)
