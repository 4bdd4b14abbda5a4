"""Comparing two gateways' answers to one operation.

Data must deep-equal (key order aside); errors are compared by presence and by path,
never by message, since every gateway words its errors its own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AGREE = "agree"


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    """A class name such as ``value-vs-null`` or ``error-paths``."""
    path: str
    detail: str


def normalised(answer: dict[str, Any]) -> dict[str, Any]:
    errors = list(answer.get("errors") or [])
    # Apollo Gateway reports a value it could not complete (an @inaccessible enum value
    # from a subgraph, say) under extensions.valueCompletion, where others raise an error.
    extensions = answer.get("extensions")
    if isinstance(extensions, dict):
        errors.extend(extensions.get("valueCompletion") or [])
    return {
        "data": answer.get("data"),
        "errors": sorted(
            {_path_text(error.get("path")) for error in errors if isinstance(error, dict)}
        ),
        "has_errors": bool(errors),
    }


def difference(ours: dict[str, Any], reference: dict[str, Any]) -> Difference | None:
    """The first difference between our answer and a reference gateway's, or None."""
    mine, theirs = normalised(ours), normalised(reference)
    if mine["data"] is None and theirs["data"] is not None:
        return Difference("ours-no-data", "", _first_message(ours))
    if theirs["data"] is None and mine["data"] is not None:
        return Difference("reference-no-data", "", _first_message(reference))
    found = _first_data_difference(mine["data"], theirs["data"], "")
    if found is not None:
        return found
    if mine["has_errors"] != theirs["has_errors"]:
        kind = "only-ours-errors" if mine["has_errors"] else "only-reference-errors"
        return Difference(kind, "", _first_message(ours if mine["has_errors"] else reference))
    if mine["errors"] != theirs["errors"]:
        return Difference("error-paths", "", f"ours {mine['errors']} reference {theirs['errors']}")
    return None


def _first_data_difference(mine: Any, theirs: Any, path: str) -> Difference | None:
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in sorted(set(mine) | set(theirs)):
            if key not in theirs:
                return Difference("extra-key", f"{path}.{key}", "")
            if key not in mine:
                return Difference("missing-key", f"{path}.{key}", "")
            found = _first_data_difference(mine[key], theirs[key], f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(mine, list) and isinstance(theirs, list):
        if len(mine) != len(theirs):
            return Difference("list-length", path, f"ours {len(mine)} reference {len(theirs)}")
        for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            found = _first_data_difference(a, b, f"{path}.{index}")
            if found is not None:
                return found
        return None
    if mine == theirs and (type(mine) is type(theirs) or _both_numbers(mine, theirs)):
        return None
    if mine is None:
        return Difference("null-vs-value", path, f"reference {_short(theirs)}")
    if theirs is None:
        return Difference("value-vs-null", path, f"ours {_short(mine)}")
    return Difference("other-value", path, f"ours {_short(mine)} reference {_short(theirs)}")


def _both_numbers(mine: Any, theirs: Any) -> bool:
    """A Float of 995 may be written ``995.0`` or ``995``: the same JSON number."""
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in (mine, theirs))


def _path_text(path: Any) -> str:
    if not isinstance(path, list):
        return "(no path)"
    return ".".join(str(part) for part in path)


def _first_message(answer: dict[str, Any]) -> str:
    errors = answer.get("errors") or []
    if errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))[:200]
    return ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."
