"""The package's foundation, below every other layer (core <- theory <- nets <- sims <- figures).

- ``core.validate``: the one validation helper; every public entry point checks its input here and
  raises ``ValueError`` naming the parameter, the value and the valid range.
- ``core.result``: the one Result format (versioned dataclasses, JSON schema, provenance); every
  experiment returns a ``Result`` and writes it with ``write_result``.
- ``core.claims``: the registry of every checkable claim of papers 000, 001, 003 and 004.
- ``core.cli``: the one CLI layer (shared options, exit 2 on bad input, summaries, progress bars).

numpy only: nothing here imports torch, scipy or any other layer of the package.
"""
