"""Old name of ``sims.posttraining_truncation`` (Algorithm 3 on a trained net, Fig D.5), kept because
the committed Result ``results/posttraining.json`` records ``python -m nets.posttraining ...`` in its
provenance: this runs ``sims.posttraining_truncation`` with the same flags under the old name."""
import sys


def main(argv=None) -> int:
    from sims.experiment import cli_main
    return cli_main("sims.posttraining_truncation", argv, recorded_as="nets.posttraining")


if __name__ == "__main__":
    sys.exit(main())
