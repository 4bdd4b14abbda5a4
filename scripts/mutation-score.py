#!/usr/bin/env python3
"""How many small faults in a domain model its unit tests notice: a mutation score.

    .venv/bin/python scripts/mutation-score.py domains/pricing/model.py [more models...]

Each mutant changes one thing in one function of the model: a comparison flipped at its
boundary or negated, ``+`` and ``-`` (or ``*`` and ``/``) swapped, ``and``/``or``,
``min``/``max`` or ``any``/``all`` exchanged, a ``not`` dropped, a number or boolean
changed, or one statement deleted. For every mutant the domain's unit tests
(``tests/unit/<domain>``, ``-x -q``) run with the mutant in place of the model, with a
timeout; a failing run kills the mutant, a passing one lets it survive. The report gives
killed/survived per model and lists the survivors by line, so a reader can decide
whether each is equivalent (no test could tell) or a gap in the tests.

The model file itself is never written: the mutant is loaded in its place by an import
hook in a forked copy of a process that has the third-party packages imported already,
which saves each run the few seconds of importing them. Run it on demand; it is not part
of CI (it takes minutes: a few hundred mutants per model).
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import importlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
# Our own packages: imported afresh in every mutant's run, so they see the mutant.
OWN_PACKAGES = ("domains", "adapters", "kernel", "erp", "retailgraph", "gateway", "tests")

COMPARISON_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
OPERATOR_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
NAME_SWAPS = {"min": "max", "max": "min", "any": "all", "all": "any"}


@dataclass(frozen=True)
class Mutant:
    index: int
    line: int
    description: str
    source: str


# -- making mutants -------------------------------------------------------------------


def _sites(tree: ast.Module) -> Iterator[tuple[ast.AST, ast.AST | None, str, int]]:
    """Every node that can be mutated, inside function bodies, skipping annotations and
    docstrings: (node, its parent statement list owner or None, field, index)."""
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        yield from _walk_body(function, "body")


def _walk_body(owner: ast.AST, field: str) -> Iterator[tuple[ast.AST, ast.AST | None, str, int]]:
    body = getattr(owner, field)
    for index, statement in enumerate(body):
        docstring = (
            index == 0
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
        if docstring:
            continue
        yield statement, owner, field, index  # a statement deletion site
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue  # visited as functions of their own
        for child_field, value in ast.iter_fields(statement):
            if child_field in ("annotation", "returns", "type_comment"):
                continue
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield from _walk_body(statement, child_field)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        yield from _walk_expression(item)
            elif isinstance(value, ast.AST):
                yield from _walk_expression(value)


def _walk_expression(node: ast.AST) -> Iterator[tuple[ast.AST, ast.AST | None, str, int]]:
    if isinstance(node, ast.JoinedStr | ast.Lambda):
        # Messages; a lambda's body is visited below as an expression all the same.
        if isinstance(node, ast.Lambda):
            yield from _walk_expression(node.body)
        return
    if isinstance(node, ast.ExceptHandler):
        yield from _walk_body(node, "body")
        return
    yield node, None, "", -1
    for child in ast.iter_child_nodes(node):
        yield from _walk_expression(child)


def _expression_mutations(node: ast.AST) -> list[tuple[str, Callable[[ast.AST], None]]]:
    """What can be done to one expression node, as (description, in-place change)."""
    changes: list[tuple[str, Callable[[ast.AST], None]]] = []
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            swap = COMPARISON_SWAPS.get(type(op))
            if swap is not None:

                def flip(n: ast.AST, p: int = position, s: type[ast.cmpop] = swap) -> None:
                    assert isinstance(n, ast.Compare)
                    n.ops[p] = s()

                changes.append((f"{type(op).__name__} -> {swap.__name__}", flip))
    elif isinstance(node, ast.BinOp | ast.AugAssign):
        swap_op = OPERATOR_SWAPS.get(type(node.op))
        if swap_op is not None:

            def swap_operator(n: ast.AST, s: type[ast.operator] = swap_op) -> None:
                assert isinstance(n, ast.BinOp | ast.AugAssign)
                n.op = s()

            changes.append((f"{type(node.op).__name__} -> {swap_op.__name__}", swap_operator))
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And

        def swap_bool(n: ast.AST, o: type[ast.boolop] = other) -> None:
            assert isinstance(n, ast.BoolOp)
            n.op = o()

        changes.append((f"{type(node.op).__name__} -> {other.__name__}", swap_bool))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):

        def drop_unary(n: ast.AST) -> None:
            assert isinstance(n, ast.UnaryOp)
            n.op = ast.UAdd() if isinstance(n.op, ast.USub) else _Identity()

        changes.append((f"drop {type(node.op).__name__}", drop_unary))
    elif isinstance(node, ast.Name) and node.id in NAME_SWAPS:

        def swap_name(n: ast.AST) -> None:
            assert isinstance(n, ast.Name)
            n.id = NAME_SWAPS[n.id]

        changes.append((f"{node.id} -> {NAME_SWAPS[node.id]}", swap_name))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):

        def negate(n: ast.AST) -> None:
            assert isinstance(n, ast.Constant)
            n.value = not n.value

        changes.append((f"{node.value} -> {not node.value}", negate))
    elif isinstance(node, ast.Constant) and isinstance(node.value, int):

        def bump(n: ast.AST) -> None:
            assert isinstance(n, ast.Constant)
            assert isinstance(n.value, int)
            n.value = n.value + 1

        changes.append((f"{node.value} -> {node.value + 1}", bump))
    return changes


class _Identity(ast.unaryop):
    """Marks a ``not`` to drop; ``_unwrap_identity`` removes it before unparsing."""


class _UnwrapIdentity(ast.NodeTransformer):
    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        return node.operand if isinstance(node.op, _Identity | ast.UAdd) else node


def mutants(path: Path) -> Iterator[Mutant]:
    text = path.read_text()
    original = ast.parse(text)
    baseline = ast.unparse(original)
    count = sum(1 for _ in _changes(original))
    seen = {baseline}
    for index in range(count):
        tree = copy.deepcopy(original)
        line, description = _apply(tree, index)
        source = ast.unparse(ast.fix_missing_locations(_UnwrapIdentity().visit(tree)))
        if source in seen:
            continue  # the same program as the model or as an earlier mutant
        seen.add(source)
        yield Mutant(index, line, description, source)


def _changes(tree: ast.Module) -> Iterator[tuple[int, str, Callable[[], None]]]:
    for node, owner, field, position in _sites(tree):
        if owner is not None:
            body = getattr(owner, field)

            def delete(b: list[ast.stmt] = body, p: int = position) -> None:
                b[p] = ast.Pass()

            yield node.lineno if isinstance(node, ast.stmt) else 0, "delete statement", delete
            continue
        for description, change in _expression_mutations(node):
            line = getattr(node, "lineno", 0)
            yield line, description, functools.partial(change, node)


def _apply(tree: ast.Module, index: int) -> tuple[int, str]:
    for position, (line, description, change) in enumerate(_changes(tree)):
        if position == index:
            change()
            return line, description
    raise IndexError(index)


# -- running the tests ----------------------------------------------------------------


# Runs in the forked child: the mutant replaces the model module when it is imported.
def _run_tests(module_name: str, model_path: str, source: str, tests: list[str]) -> int:
    import importlib.abc
    import importlib.util

    import pytest
    from hypothesis import Phase, settings

    class MutantLoader(importlib.abc.Loader):
        def create_module(self, spec: ModuleSpec) -> None:
            return None

        def exec_module(self, module: ModuleType) -> None:
            exec(compile(source, model_path, "exec"), module.__dict__)

    class MutantFinder(importlib.abc.MetaPathFinder):
        def find_spec(
            self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
        ) -> ModuleSpec | None:
            if name != module_name:
                return None
            return importlib.util.spec_from_file_location(name, model_path, loader=MutantLoader())

    for name in [n for n in sys.modules if n.split(".")[0] in OWN_PACKAGES]:
        del sys.modules[name]
    sys.meta_path.insert(0, MutantFinder())
    # No example database: a mutant's failures must not be replayed against the model.
    # No shrinking: a failure is all the score needs, not the smallest example of it.
    generate = (Phase.explicit, Phase.generate)
    settings.register_profile("mutation", database=None, derandomize=True, phases=generate)
    settings.load_profile("mutation")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    # Plugins imported before pytest starts cannot have their asserts rewritten; they
    # need not be.
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    args = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *quiet, *tests]
    return int(pytest.main(args))


# Lists what collecting the tests imports, from a process of its own, so that our
# modules never load in the parent (they register metrics and the like, once per process).
_LIST_IMPORTS = """
import os, sys, pytest
devnull = os.open(os.devnull, os.O_WRONLY)
out = os.dup(1)
os.dup2(devnull, 1)
os.dup2(devnull, 2)
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]])
os.write(out, ("\\n".join(sys.modules) + "\\n").encode() if code == 0 else b"")
"""


def _prepare_parent(tests: list[str]) -> None:
    """Import the third-party modules the tests use, once, so each mutant's run starts
    with them loaded and imports only our own."""
    listed = subprocess.run(
        [sys.executable, "-c", _LIST_IMPORTS, *tests], capture_output=True, text=True, check=False
    )
    names = [n for n in listed.stdout.split() if n.split(".")[0] not in OWN_PACKAGES]
    if not names:
        sys.exit(f"collecting {' '.join(tests)} failed")
    for name in names:
        if name == "__main__" or name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # a module that only imports inside its package's context
            continue


def _start(module_name: str, model_path: str, mutant: Mutant, tests: list[str]) -> int:
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        try:
            code = _run_tests(module_name, model_path, mutant.source, tests)
        except BaseException:
            code = 99
        os._exit(code)
    return pid


def score(
    model: Path, tests: list[str], *, jobs: int, timeout: float, only: set[int] | None = None
) -> list[Mutant]:
    """Run every mutant of ``model``; print progress; return the survivors."""
    module_name = ".".join(model.resolve().relative_to(ROOT).with_suffix("").parts)
    original = Mutant(-1, 0, "the model as it is", model.read_text())
    _, status = os.waitpid(_start(module_name, str(model.resolve()), original, tests), 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{model}: the tests fail without any mutant; fix them first")
    all_mutants = [m for m in mutants(model) if only is None or m.index in only]
    pending = list(all_mutants)
    running: dict[int, tuple[Mutant, float]] = {}
    survivors: list[Mutant] = []
    killed = timed_out = 0
    try:
        while pending or running:
            while pending and len(running) < jobs:
                mutant = pending.pop(0)
                running[_start(module_name, str(model.resolve()), mutant, tests)] = (
                    mutant,
                    time.monotonic(),
                )
            select.select([], [], [], 0.05)
            for pid, (mutant, started) in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    if time.monotonic() - started > timeout:
                        os.killpg(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        del running[pid]
                        killed += 1
                        timed_out += 1
                    continue
                del running[pid]
                if os.waitstatus_to_exitcode(status) == 0:
                    survivors.append(mutant)
                else:
                    killed += 1
            print(
                f"\r{model}: {killed + len(survivors)}/{len(all_mutants)} run, "
                f"{len(survivors)} survived",
                end="",
                file=sys.stderr,
                flush=True,
            )
    finally:  # interrupted: no mutant's run outlives the script
        for pid in running:
            os.killpg(pid, signal.SIGKILL)
    print(file=sys.stderr)
    total = len(all_mutants)
    percent = 100 * killed / total if total else 100.0
    print(
        f"{model}: {killed}/{total} mutants killed ({percent:.1f}%), "
        f"{len(survivors)} survived" + (f", {timed_out} by timeout" if timed_out else "")
    )
    for mutant in sorted(survivors, key=lambda m: m.line):
        print(f"  survived: line {mutant.line}: {mutant.description}  [#{mutant.index}]")
    return survivors


def default_tests(model: Path) -> list[str]:
    parts = model.resolve().relative_to(ROOT).parts
    if len(parts) >= 2 and parts[0] == "domains":
        return [str(ROOT / "tests" / "unit" / parts[1])]
    sys.exit(f"{model}: name the tests to run with --tests")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="model files, e.g. domains/*/model.py")
    parser.add_argument("--tests", nargs="+", help="test paths (default: tests/unit/<domain>)")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="mutants run at once")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant")
    parser.add_argument(
        "--only", type=int, nargs="+", metavar="N", help="run only mutants #N... (e.g. survivors)"
    )
    parser.add_argument(
        "--show", type=int, metavar="N", help="print mutant #N of the (single) model and stop"
    )
    args = parser.parse_args()
    os.chdir(ROOT)
    # A termination ends the run like ^C does: through ``score``'s cleanup of its children.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("CI", "true")
    if args.show is not None:
        for mutant in mutants(args.models[0]):
            if mutant.index == args.show:
                print(mutant.source)
                return
        sys.exit(f"no mutant #{args.show}")
    started = time.monotonic()
    for model in args.models:
        tests = args.tests or default_tests(model)
        _prepare_parent(tests)
        only = set(args.only) if args.only else None
        score(model, tests, jobs=args.jobs, timeout=args.timeout, only=only)
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
