"""Benchmarks: ratios against a baseline measured in the same run (machines are noisy).

Each ``benchmarks/bench_*.py`` defines ``main(quick: bool) -> list[dict]`` returning rows with at
least ``name``, ``value`` and ``unit`` (and ``baseline``/``ratio``/``target`` where there is one).
"""
