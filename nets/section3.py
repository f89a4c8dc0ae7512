"""Old name of the Section 3 experiments, kept because committed Results record
``python -m nets.section3 <experiment> ...`` in their provenance: this runs
``sims.section3_commands`` (example-3.2, claims-3.2.1, ladder, example-3.4, static, appendix-e2, each
mapped onto its ``sims`` module with the same flags and Result name)."""
import sys


def main(argv=None) -> int:
    from sims.section3_commands import main as run_main
    return run_main(argv)


if __name__ == "__main__":
    sys.exit(main())
