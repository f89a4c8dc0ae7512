"""The import graph: core <- theory <- nets <- sims <- figures, no cycles, no torch below nets.

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
        for mod in _imports(path):
            head = mod.split(".")[0]
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
