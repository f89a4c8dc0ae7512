"""Old name of ``sims.paper001_examples`` (paper 001's Examples 4.3-4.7), kept because the committed
Result ``results/paper001.json`` records ``python -m nets.paper001 ...`` in its provenance: this runs
``sims.paper001_examples`` with the same flags under the old name."""
import sys


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main("sims.paper001_examples", argv, recorded_as="nets.paper001")


if __name__ == "__main__":
    sys.exit(main())
