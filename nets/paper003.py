"""Old name of ``sims.paper003_abstract`` (paper 003's abstract at CPU scale), kept because the committed
Result ``results/nets/paper003.json`` records ``python -m nets.paper003 ...`` in its provenance: this
runs ``sims.paper003_abstract`` with the same flags under the old name."""
import sys


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main("sims.paper003_abstract", argv, recorded_as="nets.paper003")


if __name__ == "__main__":
    sys.exit(main())
