"""Shrinking a differing operation to a minimal one that still differs the same way.

    .venv/bin/python -m bench.differential.shrink var/differential/differences.jsonl Q226 \
        --reference apollo

Removes one selection or directive at a time (and the fragments and variables nothing
uses any more), keeping each removal after which the operation is still valid and ours
still differs from the reference with the same kind of difference. Prints the minimal
operation and each gateway's answer to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    REMOVE,
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.language import Visitor

from bench import processes
from bench.differential.__main__ import Running
from bench.differential.compare import difference
from bench.differential.gateways import DIFFERENTIAL_GATEWAYS
from bench.differential.generator import Operation
from bench.differential.mock_server import MockServer
from bench.differential.supergraphs import build
from gateway.supergraph import load_supergraph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("differences", type=Path, help="A file the differential run wrote.")
    parser.add_argument("operation", help="The operation's name, such as Q226.")
    parser.add_argument("--supergraph", help="Where operation names repeat across runs.")
    parser.add_argument("--reference", default="apollo")
    parser.add_argument("--show", default="apollo,hive", help="Gateways whose answers to show.")
    args = parser.parse_args(argv)
    record = _record(args.differences, args.operation, args.supergraph)
    run_dir = Path(tempfile.mkdtemp(prefix="differential-shrink-"))
    port = processes.free_port()
    supergraph = build(record["supergraph"], f"http://127.0.0.1:{port}")
    path = run_dir / f"{record['supergraph']}.graphql"
    path.write_text(supergraph.sdl)
    api_schema = load_supergraph(supergraph.sdl).api_schema
    names = [
        "ours",
        args.reference,
        *(n for n in args.show.split(",") if n not in ("ours", args.reference)),
    ]
    with MockServer(supergraph.subgraphs, port), httpx.Client(timeout=60) as client:
        running = [Running(DIFFERENTIAL_GATEWAYS[n], path, run_dir) for n in names]
        try:

            def kind_of(operation: Operation) -> str | None:
                ours, reference = (gateway.ask(client, operation) for gateway in running[:2])
                found = difference(ours, reference)
                return None if found is None else found.kind

            original = Operation(record["query"], record["variables"])
            wanted = kind_of(original)
            if wanted is None:
                print("no difference any more")
                return 1
            minimal = shrink(original, api_schema, lambda op: kind_of(op) == wanted)
            print(f"kind: {wanted}\n{minimal.query}\nvariables: {json.dumps(minimal.variables)}")
            for name, gateway in zip(names, running, strict=True):
                print(f"-- {name}: {json.dumps(gateway.ask(client, minimal))}")
        finally:
            for gateway in running:
                gateway.stop()
    return 0


def shrink(
    operation: Operation, schema: GraphQLSchema, still_differs: Callable[[Operation], bool]
) -> Operation:
    """The smallest operation found by single removals that ``still_differs``."""
    current = operation
    progress = True
    while progress:
        progress = False
        index = 0
        while True:
            document = parse(current.query)
            candidate_document = _without(document, index)
            if candidate_document is None:
                break
            candidate = _tidy(candidate_document, current.variables)
            if _valid(candidate, schema) and still_differs(candidate):
                current = candidate
                progress = True
            else:
                index += 1
    return current


def _valid(operation: Operation, schema: GraphQLSchema) -> bool:
    """Valid, and without an empty selection set: graphql-core parses ``{}``, which the
    grammar does not allow and the other gateways refuse."""
    document = parse(operation.query)
    empty = [False]

    class FindEmpty(Visitor):
        def enter(self, node: Any, *_: Any) -> None:
            if isinstance(node, SelectionSetNode) and not node.selections:
                empty[0] = True

    visit(document, FindEmpty())
    return not empty[0] and not validate(schema, document)


def _without(document: DocumentNode, index: int) -> DocumentNode | None:
    """The document without its ``index``-th selection or directive, in visiting order."""
    counter = [0]

    class Remove(Visitor):
        def enter(self, node: Any, *_: Any) -> Any:
            if isinstance(node, SelectionNode | DirectiveNode):
                counter[0] += 1
                if counter[0] - 1 == index:
                    return REMOVE
            return None

    pruned = visit(document, Remove())
    return pruned if counter[0] > index else None


def _tidy(document: DocumentNode, variables: dict[str, Any]) -> Operation:
    """Without the fragments and variables nothing uses any more."""
    while True:
        spread = _names(document, FragmentSpreadNode)
        definitions = tuple(
            d
            for d in document.definitions
            if not isinstance(d, FragmentDefinitionNode) or d.name.value in spread
        )
        if len(definitions) == len(document.definitions):
            break
        document = replace(document, definitions=definitions)
    used = _names(document, VariableNode)
    document = replace(
        document,
        definitions=tuple(
            replace(
                d,
                variable_definitions=tuple(
                    v for v in d.variable_definitions or () if v.variable.name.value in used
                ),
            )
            if isinstance(d, OperationDefinitionNode)
            else d
            for d in document.definitions
        ),
    )
    return Operation(print_ast(document), {k: v for k, v in variables.items() if k in used})


def _names(document: DocumentNode, kind: type[FragmentSpreadNode] | type[VariableNode]) -> set[str]:
    """The names of the ``kind`` nodes in use (a variable's definition is not a use)."""
    found: set[str] = set()

    class Collect(Visitor):
        def enter(self, node: Any, *_: Any) -> None:
            if isinstance(node, kind):
                found.add(node.name.value)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            visit(definition.selection_set, Collect())
            for directive in definition.directives or ():
                visit(directive, Collect())
        else:
            visit(definition, Collect())
    return found


def _record(path: Path, name: str, supergraph: str | None) -> dict[str, Any]:
    for line in path.read_text().splitlines():
        record = json.loads(line)
        named = (
            record["query"].startswith(f"query {name}")
            and record["query"][len(f"query {name}")] in " ({"
        )
        if named and (supergraph is None or record["supergraph"] == supergraph):
            return dict(record)
    raise SystemExit(f"no operation {name} in {path}")


if __name__ == "__main__":
    sys.exit(main())
