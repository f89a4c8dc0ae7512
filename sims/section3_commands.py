"""The old command line ``python -m nets.section3 <experiment> ...``, kept because the committed
Section 3 Results record it in ``provenance.argv``: each subcommand runs the experiment module that
replaced it, with the same flags, the same recorded command line and the same Result name, so every
committed Result still regenerates from its argv.

=================  ==========================  ========================================
subcommand         runs                        Result name (``experiment``)
=================  ==========================  ========================================
``example-3.2``    ``sims.example_3_2``        ``nets.section3.example_3_2``
``claims-3.2.1``   ``sims.section_3_2_1``      ``nets.section3.claims_3_2_1``
``ladder``         ``sims.example_3_2_widths`` ``nets.section3.width_ladder``
``example-3.4``    ``sims.example_3_4``        ``nets.section3.example_3_4``
``static``         ``sims.parameter_counts``   ``nets.section3.static_checks``
``appendix-e2``    ``sims.appendix_e2``        ``nets.section3.appendix_e2``
=================  ==========================  ========================================

New runs should use the modules directly (``python -m sims.example_3_2 --help``).
"""
from __future__ import annotations

import sys
from pathlib import Path

from sims import (appendix_e2, example_3_2, example_3_2_widths, example_3_4, parameter_counts,
                  section_3_2_1)
from sims.experiment import RUNS_DIR, ExperimentRun

OLD_MODULE = "nets.section3"
SUBCOMMANDS = {"example-3.2": example_3_2, "claims-3.2.1": section_3_2_1, "ladder": example_3_2_widths,
               "example-3.4": example_3_4, "static": parameter_counts, "appendix-e2": appendix_e2}


def config_for(args):
    """The new module's Config from the old flags."""
    runs_dir = None if args.runs_dir is None else str(args.runs_dir)
    name = args.experiment
    if name == "example-3.2":
        return example_3_2.Config(
            topology=args.topology, seeds=args.seeds,
            controls=None if args.controls is None else tuple(args.controls),
            control_seeds=tuple(args.control_seeds), width_divisor=args.width_divisor, n_train=args.n_train,
            epochs=args.epochs, runs_dir=runs_dir)
    if name == "claims-3.2.1":
        return section_3_2_1.Config(seeds=args.seeds, runs_dir=runs_dir)
    if name == "ladder":
        return example_3_2_widths.Config(widths=tuple(args.widths), seeds=args.seeds, n_train=args.n_train,
                                         runs_dir=runs_dir)
    if name == "example-3.4":
        return example_3_4.Config(seeds=args.seeds, runs_dir=runs_dir)
    if name == "static":
        return parameter_counts.Config()
    return appendix_e2.Config(seeds=args.seeds,
                              configs=None if args.e2_configs is None else tuple(args.e2_configs),
                              width_divisor=args.width_divisor, n_train=args.n_train, runs_dir=runs_dir)


def main(argv=None) -> int:
    from core.cli import make_parser, positive_int, run
    p = make_parser(OLD_MODULE, __doc__, options=("device", "json", "threads", "verbose"))
    p.add_argument("experiment", choices=tuple(SUBCOMMANDS),  # what each old name runs now
                   help="; ".join(f"{k}: python -m {m.__name__}" for k, m in SUBCOMMANDS.items()))
    p.add_argument("--topology", choices=example_3_2.TOPOLOGIES, default="a",
                   help="Example 3.2 topology (default a)")
    p.add_argument("--seeds", type=positive_int, default=5, help="seeds of the main runs (default 5)")
    p.add_argument("--controls", nargs="*", choices=example_3_2.CONTROLS, default=None,
                   help="control configs (default: linear-output, and he/xavier for topology a)")
    p.add_argument("--control-seeds", type=positive_int, nargs="+", default=[5],
                   help="seeds of the controls: one count, or one per control in --controls order (default 5)")
    p.add_argument("--width-divisor", type=positive_int, default=10, help="hidden widths / this (default 10)")
    p.add_argument("--n-train", type=positive_int, default=10000, help="training images (default 10000)")
    p.add_argument("--epochs", type=positive_int, default=None, help="override the paper's epochs (stated)")
    p.add_argument("--widths", type=positive_int, nargs="+", default=[20, 10, 5],
                   help="ladder: width divisors (default 20 10 5)")
    p.add_argument("--e2-configs", nargs="+", default=None, metavar="CONFIG",
                   help="appendix-e2: the E.2 configs to train (default: all seven of "
                        "sims.appendix_e2.E2_CONFIGS)")
    p.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help=f"run cache (default {RUNS_DIR})")
    recorded = None if argv is None else [str(a) for a in argv]

    def body(args):
        mod = SUBCOMMANDS[args.experiment]
        config = config_for(args)
        context = ExperimentRun(mod.MODULE, config, argv=sys.argv[1:] if recorded is None else recorded,
                                device="cpu" if args.experiment == "static" else args.device,
                                threads=args.threads, module=OLD_MODULE,
                                experiment=mod.RESULT_NAME)
        return mod.run(config, context=context)
    return run(p, argv, body)


if __name__ == "__main__":
    sys.exit(main())
