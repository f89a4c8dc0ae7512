"""Old name of ``sims.weightwatcher_compare`` (our layer spectra beside WeightWatcher's), kept because the
committed Result ``results/nets/weightwatcher.json`` records ``python -m nets.weightwatcher_compare ...``
in its provenance: this runs ``sims.weightwatcher_compare`` with the same flags under the old name."""
import sys


def main(argv=None) -> int:
    from sims.weightwatcher_compare import main as run_main
    return run_main(argv, module="nets.weightwatcher_compare")


if __name__ == "__main__":
    sys.exit(main())
