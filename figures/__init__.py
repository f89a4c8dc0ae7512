"""Regenerates the papers' figures from committed Results; plotting only, no simulation logic.

Each module ``figures/fig_*.py`` defines ``FIGURES: dict[str, Callable[[Path, argparse.Namespace],
list[Path]]]`` mapping a figure name (e.g. ``"4.3"``, ``"D.1"``) to a function that reads its data
with ``figures._results.load_result`` (from ``args.results``, default ``results/``), writes the
figure and its data (JSON/CSV, ``figures._output.save_figure``) into the given directory and
returns the written paths, all named ``figures._output.figure_stem(name)`` (``fig_4_3.png``,
``fig_D_2.csv``; ``tests/test_figures.py`` checks the names, the text size and the labels).
A missing Result raises ``MissingResult`` naming the command that makes it.
"""
