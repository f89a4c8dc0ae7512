"""``python -m sims --list``: the registered experiments (module, what it checks, its claim ids).

Each experiment runs as ``python -m <module> --help`` shows; see ``sims.registry`` for how to add one.
"""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    from core.cli import make_parser
    from sims.registry import listing
    p = make_parser("sims", __doc__, options=())
    p.add_argument("--list", action="store_true", help="list the registered experiments and their claims")
    args = p.parse_args(argv)
    if not args.list:
        p.print_help()
        return 0
    print(listing())
    return 0


if __name__ == "__main__":
    sys.exit(main())
