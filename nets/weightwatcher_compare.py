"""Old name of ``sims.weightwatcher_compare`` (our layer spectra beside WeightWatcher's), kept because the
committed Result ``results/nets/weightwatcher.json`` records ``python -m nets.weightwatcher_compare ...``
in its provenance: this runs ``sims.weightwatcher_compare`` with the same flags under the old name."""
import sys


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main("sims.weightwatcher_compare", argv, recorded_as="nets.weightwatcher_compare")


if __name__ == "__main__":
    sys.exit(main())
