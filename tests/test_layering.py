"""The import graph: core <- theory <- nets <- sims <- figures, no cycles, no torch below nets, no
private names imported across modules.

The layers: ``core`` (Result format, claim registry, validation, CLI layer) at the bottom; ``theory``
(exact formulas, no torch); ``nets`` (the library a user imports: models, layers, the pruning API,
Algorithms 1/3, data, training, spectra, checkpoints); ``sims`` (the experiment layer: every
experiment, registered in ``sims.registry``, and the machinery they share); ``figures`` (reads
Results only).  The one exception: the thin aliases of ``OLD_NAMES`` in nets/, which keep the old
``python -m nets.<name>`` command lines of committed Results running the experiments that moved to
sims/ (each a few lines: a docstring, an import of ``sims``, ``main``).

A static scan (ast) of every module's imports, module-level and inside functions alike, so a lazy
``from figures import ...`` inside a sims function is caught too.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("core", "theory", "nets", "sims", "figures")
# Which top-level packages each layer may import (itself included).
ALLOWED = {
    "core": {"core"},
    "theory": {"core", "theory"},
    "nets": {"core", "theory", "nets"},
    "sims": {"core", "theory", "nets", "sims"},
    # figures read Results and plot; exact formulas (theory) may be drawn as reference curves.
    "figures": {"core", "theory", "figures"},
    "benchmarks": {"core", "theory", "nets", "sims", "benchmarks"},
}
NO_TORCH = ("core", "theory")
# nets modules that are only the old command-line names of experiments now in sims/ (committed
# Results record them in provenance.argv); they may import sims and nothing else of the package.
OLD_NAMES = {"nets.section3", "nets.remove_all", "nets.paper001", "nets.appendix_e3", "nets.paper003",
             "nets.posttraining", "nets.weightwatcher_compare"}
ALIAS_MAX_LINES = 30


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, name: str | None = None) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    name = name or _module_name(path)
    pkg = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def _package_modules():
    for top in ALLOWED:
        for path in sorted((ROOT / top).rglob("*.py")):
            yield top, path


def test_layers_import_only_below():
    bad = []
    for top, path in _package_modules():
        alias = _module_name(path) in OLD_NAMES
        for mod in _imports(path):
            head = mod.split(".")[0]
            if alias and head == "sims":
                continue
            if head in ALLOWED and head not in ALLOWED[top]:
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
            if top in NO_TORCH and head == "torch":
                bad.append(f"{path.relative_to(ROOT)} imports torch")
    assert not bad, "\n".join(bad)


def test_no_import_cycles_between_modules():
    modules = {_module_name(p): p for _, p in _package_modules()}
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    # A package's __init__ importing its own submodules is not a cycle of behaviour; leave those out.
    for m in graph:
        graph[m] = {d for d in graph[m] if not d.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_scan_sees_lazy_imports(tmp_path):
    # The scan must catch an import inside a function body, the form the old sims -> figures
    # cycles took; otherwise the two tests above could not fail.
    f = tmp_path / "mod.py"
    f.write_text("def plot():\n    from figures.fig_spiked import plot_spiked\n")
    assert "figures.fig_spiked" in _imports(f, "sims.mod")


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_exists(layer):
    assert (ROOT / layer / "__init__.py").exists()


@pytest.mark.parametrize("name", sorted(OLD_NAMES))
def test_an_old_name_is_a_thin_alias(name):
    """An old name defines ``main`` only and imports only from sims (no experiment code left in nets)."""
    path = ROOT / (name.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text())
    assert len(path.read_text().splitlines()) <= ALIAS_MAX_LINES
    defs = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert defs == ["main"], defs
    package = {m.split(".")[0] for m in _imports(path, name)} & set(ALLOWED)
    assert package <= {"sims"}, package


def test_no_experiment_left_in_nets():
    """nets/ is the library: no module there makes verdicts or registers an experiment (the old
    names are aliases that run sims/ modules)."""
    from sims import registry
    assert not [e.module for e in registry.EXPERIMENTS if e.module.startswith("nets.")]
    makers = []
    for path in sorted((ROOT / "nets").rglob("*.py")):
        text = path.read_text()
        if "Verdict(" in text and _module_name(path) not in OLD_NAMES:
            makers.append(_module_name(path))
    assert not makers, f"nets modules that still make verdicts (experiments belong in sims/): {makers}"


def test_no_private_name_is_imported_across_modules():
    """``from a.b import _x`` between the package's modules: a private helper of one module used by
    another is machinery that belongs in a public, documented module (a package's private submodules,
    e.g. theory._tw_quadrature, may be imported inside that package)."""
    bad = []
    for top, path in _package_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ALLOWED:
                own_package = _module_name(path).rsplit(".", 1)[0] == node.module
                bad += [f"{path.relative_to(ROOT)}: from {node.module} import {a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")
                        # a private submodule of the importer's own package is that package's business
                        and not (own_package and (ROOT / node.module.replace(".", "/") / f"{a.name}.py").exists())]
    assert not bad, "\n".join(bad)


def _module_aliases(tree) -> dict[str, str]:
    """Local names bound to one of the package's modules: ``import a.b as m`` and ``from a import
    b`` (when ``a/b.py`` or ``a/b/`` exists)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in ALLOWED and a.asname:
                    aliases[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ALLOWED:
            for a in node.names:
                base = ROOT / node.module.replace(".", "/") / a.name
                if base.with_suffix(".py").exists() or base.is_dir():
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def test_no_private_name_is_reached_through_a_module_alias():
    """``import theory.approximation as paper; paper._helper(...)``: the same private reach as
    ``from theory.approximation import _helper``, which the import scan alone does not see."""
    bad = []
    for top, path in _package_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        aliases = _module_aliases(tree)
        own = _module_name(path)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and aliases[node.value.id] != own
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr} "
                           f"({aliases[node.value.id]})")
    assert not bad, "\n".join(bad)


def test_the_alias_scan_sees_a_private_attribute(tmp_path):
    tree = ast.parse("import theory.approximation as paper\nx = paper._hidden(1)\n")
    aliases = _module_aliases(tree)
    assert aliases == {"paper": "theory.approximation"}
    hits = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.value.id in aliases]
    assert hits == ["_hidden"]
