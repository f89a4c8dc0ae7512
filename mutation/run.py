"""Mutation testing of theory/, core/ and nets/prune.py with mutmut (issue 24): ``make mutation``.

Each target module is mutated in a throw-away copy of the tree (never in the working tree, where
others edit), against the test files that reach it (TARGETS), one worker at a time.  Per module it
writes, under --out (default runs/mutation/):

* ``scores.md``: mutants, killed, survived, no test reaches, timeouts, raw score, survivors that are
  known equivalent (mutation/equivalent.tsv), survivors that change only an error message's text,
  and the remaining survivors, which are the ones to look at;
* ``survivors.txt``: the diff of every remaining survivor (and, with --all-survivors, every one).

Choices, and why:
* ``process_isolation = forkserver``: under fork, a test that starts a joblib (loky) pool
  (tests/test_pruning_theorem.py::test_results_do_not_depend_on_jobs) leaves it in mutmut's main
  process, and the next forked mutant hangs on it without using CPU, so mutmut's CPU-time limit
  never fires.  The fork server imports pytest and collects, but runs no test.
* ``self_check`` is left out of the scores: it is a diagnostic table whose rows compare the library
  against independent numerics for ``python -m theory``; a mutant there changes the diagnostics,
  not what a user computes, and no selected test runs it (mutmut reports its mutants as "no tests"
  at no cost; excluding them at the source would need a pragma in theory/).
* Survivors that change only the text of an error message (mutmut's "XX...XX" string mutants inside
  a raise) are counted apart: tests match messages by the parameter name, not word for word.

Usage: ``python mutation/run.py [--only core/validate.py ...] [--rev REV] [--out DIR]``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.tsv"

# module -> the test files that reach it (fast unit tests; the end-to-end tests that also reach
# it cost seconds per mutant and add no assertion on these functions' values).
TARGETS: dict[str, list[str]] = {
    "core/validate.py": ["tests/test_core.py", "tests/test_bad_inputs.py",
                         "tests/test_validate_gaps.py"],
    "theory/marchenko_pastur.py": ["tests/test_marchenko_pastur.py", "tests/test_bad_inputs.py",
                                   "tests/test_marchenko_pastur_gaps.py"],
    "theory/bema.py": ["tests/test_bema.py", "tests/test_bad_inputs.py", "tests/test_bema_gaps.py"],
    "theory/pruning_bounds.py": ["tests/test_pruning_bounds.py", "tests/test_bad_inputs.py",
                                 "tests/test_pruning_theorem.py", "tests/test_pruning_bounds_gaps.py"],
    "nets/prune.py": ["tests/test_prune_api.py", "tests/test_api_user.py", "tests/test_pruning.py",
                      "tests/test_pruning_rules.py", "tests/test_sparsify.py", "tests/test_prune_gaps.py"],
}
# end-to-end tests left out of a module's selection: they reach nearly every function of the module,
# cost seconds per mutant (most of a full run's time) and assert on a simulation's output, not on
# these functions' values.  A mutant only they would kill is reported as a survivor (the
# conservative direction) and judged like any other.
DESELECT: dict[str, list[str]] = {
    "theory/pruning_bounds.py": [
        "tests/test_pruning_theorem.py::test_results_do_not_depend_on_jobs",          # 4.1 s, joblib pool
        "tests/test_pruning_theorem.py::test_cli_quick_writes_a_result_with_registry_ids",  # 1.1 s, CLI
    ],
    # asserts that a warning points at the caller's line: under mutmut the trampoline is one more
    # stack frame, so it fails on the unmutated code and mutmut refuses to start
    "nets/prune.py": [
        "tests/test_api_user.py::test_a_single_layer_is_named_by_its_class_and_warnings_point_at_the_caller",
    ],
}
# copied into the mutation tree (mutmut imports the tests' packages from there, not from here)
PACKAGES = ["core", "theory", "sims", "nets", "figures", "benchmarks"]
ALSO_COPY = ["results", "Makefile", "README.md", "FINDINGS.md", "constraints.txt"]
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          35: "suspicious", 36: "timeout", 37: "type check", -24: "timeout", 24: "timeout",
          152: "timeout", 255: "timeout", None: "not checked"}
MESSAGE_LINE = re.compile(r"raise |InvalidArgument\(|Error\(|f\"|f'|^\s*\"|^\s*'")


def copy_tree(dest: Path, rev: str | None) -> None:
    """The working tree's files (tracked and untracked, not ignored), or a commit's, into dest."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if rev:
        with tempfile.TemporaryFile() as buf:
            subprocess.run(["git", "archive", rev], cwd=ROOT, stdout=buf, check=True)
            buf.seek(0)
            with tarfile.open(fileobj=buf) as tar:
                tar.extractall(dest, filter="data")
        return
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def refresh_tree(tree: Path, module: str, rev: str | None) -> None:
    """The working tree's (or rev's) files into an earlier run's tree, keeping the mutated module
    (which must be unchanged: the mutants were made from it), its mutants and mutmut's state; the
    rest of mutants/ is dropped, and mutmut copies it again from the refreshed tree."""
    target = tree / module
    keep = [module, module + ".meta", "mutmut-stats.json"]
    fresh = Path(tempfile.mkdtemp(dir=tree.parent, prefix=tree.name + ".fresh."))
    try:
        copy_tree(fresh, rev)
        if (fresh / module).read_bytes() != target.read_bytes():
            raise SystemExit(f"{module} changed since the run in {tree}: its mutants are not the "
                             "module's any more; run it afresh (without --rerun)")
        shutil.copy2(target, fresh / module)  # its mtime too: mutmut keeps mutants newer than their source
        for name in keep:
            if (tree / "mutants" / name).exists():
                (fresh / "mutants" / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(tree / "mutants" / name, fresh / "mutants" / name)
        shutil.rmtree(tree)
        fresh.rename(tree)
    finally:
        if fresh.exists():
            shutil.rmtree(fresh)


def write_config(tree: Path, module: str, tests: list[str]) -> None:
    present = [t for t in tests if (tree / t).exists()]
    lines = ["[mutmut]", "source_paths ="] + [f"    {p}" for p in PACKAGES]
    lines += [f"only_mutate = {module}"]
    # what tests read besides the packages (committed Results, the Makefile's command list)
    lines += ["also_copy ="] + [f"    {p}" for p in ALSO_COPY if (tree / p).exists()]
    lines += ["pytest_add_cli_args_test_selection ="] + [f"    {t}" for t in present]
    lines += ["pytest_add_cli_args =", "    -p", "    no:cacheprovider"]
    for node in DESELECT.get(module, []):
        lines += ["    --deselect", f"    {node}"]
    lines += [
              "process_isolation = forkserver", "use_git_change_detection = false",
              # CPU-seconds limit per mutant = (tests' time + constant) * multiplier * 2, and a
              # wall-clock limit of half that.  The constant covers the forked child's own pytest
              # start (re-collection of the selected files): with mutmut's default of 1 s, fast
              # survivors were reported as timeouts.  It is 60 s because the wall-clock limit
              # counts against a shared, loaded machine too (a survivor that needs 3 CPU-seconds
              # takes ~40 s at a twelfth of a core), and a timeout counts as detected.
              "timeout_constant = 60", "timeout_multiplier = 2", ""]
    (tree / "setup.cfg").write_text("\n".join(lines))
    # mutmut reads [tool.mutmut] from pyproject.toml first; make sure setup.cfg is the one used
    pyproject = tree / "pyproject.toml"
    if pyproject.exists() and "[tool.mutmut]" in pyproject.read_text():
        raise SystemExit("pyproject.toml has a [tool.mutmut] section; mutation/run.py writes setup.cfg")


def load_equivalents() -> dict[tuple, str]:
    """(module, function, removed line, added line) -> reason, from mutation/equivalent.tsv."""
    out = {}
    if EQUIVALENT.exists():
        for raw in EQUIVALENT.read_text().splitlines():
            if not raw.strip() or raw.startswith("#"):
                continue
            module, function, removed, added, reason = raw.split("\t")
            out[(module, function, removed.strip(), added.strip())] = reason
    return out


def mutant_key(module: str, name: str, diff: str) -> tuple:
    """A survivor's identity that does not depend on mutmut's numbering: the function it mutates
    and the changed lines (stripped)."""
    function = name.rpartition(".")[-1].split("__mutmut_")[0]
    function = function[2:].replace("ǁ", ".")  # mutmut's "x_f" / "xǁClassǁmethod"
    removed = " ".join(l[1:].strip() for l in diff.splitlines() if l.startswith("-") and not l.startswith("---"))
    added = " ".join(l[1:].strip() for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++"))
    return module, function, removed, added


def is_message_only(removed: str, added: str, function: str = "") -> bool:
    """The mutant changes only the text of a string literal on a message line: mutmut's "XX...XX"
    around it, or its case.  Code inside an f-string (``{sorted(None)}``, ``{'<=' if a or True
    ...}``) is not text, and what ``__str__``/``__repr__`` print is output, not a message."""
    if function.rpartition(".")[2] in ("__str__", "__repr__", "extra_repr"):
        return False
    if not MESSAGE_LINE.search(removed) or removed == added:
        return False
    wrapped = added.count("XX") == removed.count("XX") + 2 and added.replace("XX", "", 2) == removed
    recased = added.lower() == removed.lower()
    return wrapped or recased


def collect(tree: Path) -> list[dict]:
    """Run inside the mutation tree (cwd): every mutant's status, and the diff of the survivors."""
    sys.path.insert(0, str(tree))
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    rows = []
    for meta in sorted((tree / "mutants").rglob("*.py.meta")):
        path = str(meta.relative_to(tree / "mutants"))[: -len(".meta")]
        data = json.loads(meta.read_text())
        for name, code in data["exit_code_by_key"].items():
            status = STATUS.get(code, "suspicious")
            diff = get_diff_for_mutant(name, path=path) if status in ("survived", "suspicious") else ""
            rows.append(dict(module=path, name=name, status=status, diff=diff))
    return rows


def survivors_of(tree: Path) -> list[str]:
    """Names of the mutants a previous run in ``tree`` let survive (a timeout counts as detected)."""
    names = []
    for meta in (tree / "mutants").rglob("*.py.meta"):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if STATUS.get(code, "suspicious") in ("survived", "suspicious"):
                names.append(name)
    return names


def run_module(module: str, tests: list[str], work: Path, rev: str | None, log, rerun: bool = False,
               resume: bool = False, max_children: int = 1) -> list[dict]:
    tree = work / module.replace("/", "_").removesuffix(".py")
    names: list[str] = []
    if resume and (tree / "mutants").is_dir():
        # same tree, same tests: mutmut runs the mutants not checked yet (an interrupted run); a
        # changed timeout setting makes it re-check the earlier timeouts only
        write_config(tree, module, tests)
    elif rerun and (tree / "mutants").is_dir():
        # same mutants, the working tree's current tests and every other module: only the previous
        # survivors are run again.  The other modules are refreshed too: tests changed since the
        # run may need code changed with them (the unmutated run must pass, else mutmut stops).
        refresh_tree(tree, module, rev)
        write_config(tree, module, tests)
        names = survivors_of(tree)
        if not names:
            return run_collect(tree)
    else:
        copy_tree(tree, rev)
        write_config(tree, module, tests)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *names], cwd=tree, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log.write(f"## {module} (exit {proc.returncode}, {time.time() - start:.0f} s)\n{proc.stdout[-4000:]}\n")
    log.flush()
    return run_collect(tree)


def run_collect(tree: Path) -> list[dict]:
    out = subprocess.run([sys.executable, __file__, "--collect", str(tree)], cwd=tree,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def summarise(module: str, rows: list[dict], equivalents: dict) -> tuple[dict, list[dict]]:
    counts = dict(mutants=sum("self_check__mutmut" not in r["name"] for r in rows), killed=0, survived=0, no_tests=0, timeout=0, other=0,
                  equivalent=0, message=0, open=0)
    open_rows = []
    for r in rows:
        s = r["status"]
        if "self_check__mutmut" in r["name"]:
            continue  # left out of the scores (module docstring)
        if s == "killed":
            counts["killed"] += 1
        elif s == "no tests":
            counts["no_tests"] += 1
        elif s == "timeout":
            counts["timeout"] += 1
        elif s in ("survived", "suspicious"):
            counts["survived"] += 1
            key = mutant_key(module, r["name"], r["diff"])
            r["key"] = key
            if key in equivalents:
                counts["equivalent"] += 1
                r["reason"] = equivalents[key]
            elif is_message_only(key[2], key[3], key[1]):
                counts["message"] += 1
            else:
                counts["open"] += 1
                open_rows.append(r)
        else:
            counts["other"] += 1
    reached = counts["killed"] + counts["survived"] + counts["timeout"]
    counts["score"] = (counts["killed"] + counts["timeout"]) / reached if reached else float("nan")
    return counts, open_rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=sorted(TARGETS), help="modules to run (default: all)")
    ap.add_argument("--rev", help="mutate this commit's tree instead of the working tree")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "mutation")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "rmt-mutation",
                    help="where the copies of the tree are made (never the working tree)")
    ap.add_argument("--rerun", action="store_true",
                    help="reuse the trees of the last run (same mutants) and run only its survivors "
                         "against the working tree's current tests and other modules")
    ap.add_argument("--resume", action="store_true",
                    help="reuse the trees of an interrupted run and run the mutants not checked yet")
    ap.add_argument("--max-children", type=int, default=1,
                    help="mutants run at once (CPU-time limits are per mutant, so the verdicts do not "
                         "depend on it)")
    ap.add_argument("--collect", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.collect:
        json.dump(collect(args.collect), sys.stdout)
        return 0
    if ROOT == args.work.resolve() or ROOT in args.work.resolve().parents:
        ap.error("--work must be outside the repository")
    args.out.mkdir(parents=True, exist_ok=True)
    equivalents = load_equivalents()
    table = ["| target | mutants | killed | survived | no test reaches | timeout | raw score "
             "| equivalent (listed) | message text only | open survivors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    with open(args.out / "mutmut.log", "w") as log, open(args.out / "survivors.txt", "w") as surv:
        for module in args.only or list(TARGETS):
            rows = run_module(module, TARGETS[module], args.work, args.rev, log, args.rerun, args.resume,
                              args.max_children)
            counts, open_rows = summarise(module, rows, equivalents)
            table.append(f"| {module} | {counts['mutants']} | {counts['killed']} | {counts['survived']} | "
                         f"{counts['no_tests']} | {counts['timeout']} | {100 * counts['score']:.1f}% | "
                         f"{counts['equivalent']} | {counts['message']} | {counts['open']} |")
            print(table[-1], flush=True)
            (args.out / f"{module.replace('/', '_')}.json").write_text(json.dumps(rows, indent=1))
            for r in open_rows:
                surv.write(f"# {r['name']} ({r['status']})\n# key: {chr(9).join(r['key'][1:])}\n{r['diff']}\n\n")
            surv.flush()
    (args.out / "scores.md").write_text("\n".join(table) + "\n")
    print(f"\nscore table: {args.out / 'scores.md'}\nopen survivors: {args.out / 'survivors.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
