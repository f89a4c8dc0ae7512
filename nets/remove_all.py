"""Old name of ``sims.remove_all_ablation`` (the f = 0 ablation of (3.5)), kept because the committed
Result ``results/nets/remove_all.json`` records ``python -m nets.remove_all ...`` in its provenance:
this runs ``sims.remove_all_ablation`` with the same flags under the old name."""
import sys


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main("sims.remove_all_ablation", argv, recorded_as="nets.remove_all")


if __name__ == "__main__":
    sys.exit(main())
