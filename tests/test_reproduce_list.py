"""Every committed Result regenerates from the command in its provenance, and `make reproduce` /
`make reproduce-long` run exactly those commands (so the list cannot drift from the results)."""
from core.result import PACKAGE_ROOT
from figures.report import load_results


def _make_commands() -> set[str]:
    lines = (PACKAGE_ROOT / "Makefile").read_text().splitlines()
    out = set()
    for line in lines:
        line = line.strip()
        if "$(PY) -m " in line and "--json" in line:
            out.add("python -m " + line.split("$(PY) -m ", 1)[1])
    return out


def test_every_committed_result_is_listed_in_make_reproduce():
    listed = _make_commands()
    missing = [" ".join(s.result.provenance.argv) for s in load_results()
               if " ".join(s.result.provenance.argv) not in listed]
    assert not missing, "add to the Makefile's reproduce targets:\n" + "\n".join(missing)


def test_every_committed_result_names_its_own_module_and_path():
    for s in load_results():
        argv = s.result.provenance.argv
        assert argv[:2] == ["python", "-m"], (s.name, argv)
        module = argv[2]
        # an experiment that moved keeps its old Result name (RESULT_NAME) so old and new Results
        # join the same registry entries; the command names the module that makes it now
        import importlib
        names = {module, getattr(importlib.import_module(module), "RESULT_NAME", module)}
        assert any(s.result.experiment == n or s.result.experiment.startswith(n + ".") for n in names), \
            (s.name, argv)
        assert argv[argv.index("--json") + 1] == f"results/{s.name}.json", (s.name, argv)
