"""``@listSize`` for our subgraphs' list fields, so the gateway's demand control knows how
long their answers can be (the cost spec's directive, as Federation 2.9 imports it)."""

from __future__ import annotations

from strawberry.federation.schema_directives import ListSize


def list_size(
    *,
    assumed_size: int | None = None,
    slicing_arguments: list[str] | None = None,
    sized_fields: list[str] | None = None,
) -> ListSize:
    return ListSize(
        assumed_size=assumed_size,
        slicing_arguments=slicing_arguments,
        sized_fields=sized_fields,
        require_one_slicing_argument=True,
    )
