"""Regenerates the papers' figures from results; plotting only, no simulation logic.

Each module ``figures/fig_*.py`` defines ``FIGURES: dict[str, Callable[[Path, argparse.Namespace], list[Path]]]``
mapping a figure name (e.g. ``"4.3"``, ``"D.1"``) to a function that writes the figure and its
data (JSON/CSV) into the given directory and returns the written paths. Data come from the
``sims``/``nets`` result functions; the figure module itself only reads and plots.
"""
