"""Old name of ``sims.paper003_abstract`` (paper 003's abstract at CPU scale), kept because the committed
Result ``results/nets/paper003.json`` records ``python -m nets.paper003 ...`` in its provenance: this
runs ``sims.paper003_abstract`` with the same flags under the old name."""
import sys


def main(argv=None) -> int:
    from sims.paper003_abstract import main as run_main
    return run_main(argv, module="nets.paper003")


if __name__ == "__main__":
    sys.exit(main())
