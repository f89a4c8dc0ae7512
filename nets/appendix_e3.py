"""Old name of ``sims.appendix_e3`` (paper 000 Appendix E.3 at CPU scale), kept because the committed
Result ``results/nets/appendix_e3.json`` records ``python -m nets.appendix_e3 ...`` in its provenance:
this runs ``sims.appendix_e3`` with the same flags under the old name."""
import sys

from sims.experiment import cli_main


def main(argv=None) -> int:
    return cli_main("sims.appendix_e3", argv, recorded_as="nets.appendix_e3")


if __name__ == "__main__":
    sys.exit(main())
