"""Packaging: an SPDX license string (no deprecated TOML table), LICENSE, CITATION.cff naming the
package and the papers, console scripts for the main entry points (the same table as
core.cli.CONSOLE_SCRIPTS), and the README paragraph for machines without a local CPU torch wheel."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
import warnings
from importlib import metadata
from pathlib import Path

import yaml

from core import cli
from core.claims import PAPERS
from core.result import PACKAGE_ROOT

PYPROJECT = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text())


def test_license_is_an_spdx_string_with_its_file():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (PACKAGE_ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_setuptools_reads_pyproject_without_a_deprecation_warning(monkeypatch):
    """The license as a TOML table printed a SetuptoolsDeprecationWarning on every install."""
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution
    monkeypatch.chdir(PACKAGE_ROOT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist = apply_configuration(Distribution(), "pyproject.toml")
    assert dist.get_name() == "rmt-pruning"


def test_console_scripts_are_the_cli_table_and_each_target_has_main():
    scripts = PYPROJECT["project"]["scripts"]
    expected = {name: (f"{mod}.__main__:main" if mod in ("theory", "figures", "benchmarks")
                       else f"{mod}:main") for name, mod in cli.CONSOLE_SCRIPTS.items()}
    assert scripts == expected
    for target in scripts.values():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func))


def test_installed_console_scripts_match_pyproject_and_run():
    """The installed metadata is the current pyproject (else: `make .venv/.installed` again)."""
    installed = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")
                 if ep.dist is not None and ep.dist.name == "rmt-pruning"}
    assert installed == PYPROJECT["project"]["scripts"]
    script = Path(sys.executable).parent / "rmt-theory"
    r = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("rmt-theory (rmt-pruning ")


def test_citation_cff_names_the_package_and_every_paper():
    cff = yaml.safe_load((PACKAGE_ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["title"].startswith("rmt-pruning")
    assert str(cff["version"]) == PYPROJECT["project"]["version"]
    assert cff["license"] == PYPROJECT["project"]["license"]
    assert cff["message"] and cff["authors"]
    titles = [ref["title"].lower() for ref in cff["references"]]
    for paper, text in PAPERS.items():
        title = text.split(": ", 1)[1].split(" (")[0].lower()
        assert any(title in t for t in titles), (paper, title)
    for ref in cff["references"]:
        assert ref["authors"] and ref["year"]


def test_readme_says_how_to_install_without_a_local_cpu_torch_wheel():
    readme = (PACKAGE_ROOT / "README.md").read_text()
    pin = (PACKAGE_ROOT / "constraints.txt").read_text()
    version = next(ln.split("==")[1].strip() for ln in pin.splitlines() if ln.startswith("torch=="))
    assert "https://download.pytorch.org/whl/cpu" in readme
    assert f"torch=={version}" in readme  # the command installs the pinned version
    assert "constraints.txt" in readme
