"""Old name of ``sims.posttraining_truncation`` (Algorithm 3 on a trained net, Fig D.5), kept because
the committed Result ``results/posttraining.json`` records ``python -m nets.posttraining ...`` in its
provenance: this runs ``sims.posttraining_truncation`` with the same flags under the old name."""
import sys


def main(argv=None) -> int:
    from sims.posttraining_truncation import main as run_main
    return run_main(argv, module="nets.posttraining")


if __name__ == "__main__":
    sys.exit(main())
