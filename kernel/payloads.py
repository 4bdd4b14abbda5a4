"""What an event says, as a typed contract, and how a payload is read strictly: each
required field present with its JSON type.

Payloads arrive from outboxes, Redis Streams and subscription feeds as decoded JSON. A
payload that does not match its contract is refused with ``MalformedPayload`` naming the
event type and the field, so a bad producer shows up where its event is read instead of
as a ``KeyError`` deep in a consumer. Keys a contract does not know are ignored: a newer
producer may add fields that older consumers have not learnt yet.

Contracts are pydantic dataclasses: pydantic reads and writes the wire form, and the
field types below say what each JSON value must be. Building a contract checks its
fields the same way, so a producer cannot record a payload its consumers would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError, PydanticUseDefault


class MalformedPayload(ValueError):
    """An event's payload does not match the contract of its type."""

    def __init__(self, event_type: str, where: str, problem: str) -> None:
        super().__init__(f"{event_type} payload: {where} {problem}")
        self.event_type = event_type
        self.where = where
        self.problem = problem


# The wire form of every contract and of the objects nested in it: camelCase keys,
# unknown keys ignored. Code builds contracts with the Python field names; payloads are
# read by their wire names only.
WIRE_FORM = ConfigDict(
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
    extra="ignore",
)


class PayloadPart:
    """An object within an event payload (the payload itself, or one nested in it), with
    the JSON shape it has on the wire."""

    __slots__ = ()

    # The config pydantic gives each contract and nested object that derives from this.
    __pydantic_config__: ClassVar[ConfigDict] = WIRE_FORM

    def to_payload(self) -> dict[str, Any]:
        shown: dict[str, Any] = _wire(type(self)).dump_python(self, mode="json")
        return shown


class EventPayload(PayloadPart):
    """What an event of one type says: a typed contract between its producer and every
    consumer, with the JSON shape (camelCase keys) it has on the wire.

    Each contract names its event ``TYPE`` and the ``VERSION`` of its payload's shape;
    ``from_payload`` refuses a payload that lacks a required field or has one of the wrong
    type (``MalformedPayload``) and ignores keys it does not know.
    """

    __slots__ = ()

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        wire: TypeAdapter[Self] = _wire(cls)
        try:
            return wire.validate_python(
                payload, by_alias=True, by_name=False, context=_DECODED_JSON
            )
        except ValidationError as error:
            raise _malformed(cls.TYPE, error.errors(include_url=False)[0]) from None


_WIRE_FORMS: dict[type[PayloadPart], TypeAdapter[Any]] = {}


def _wire(part: type[PayloadPart]) -> TypeAdapter[Any]:
    form = _WIRE_FORMS.get(part)
    if form is None:
        form = _WIRE_FORMS[part] = TypeAdapter(part)
    return form


# -- field types: what each JSON value must be ------------------------------------------

# The validation context ``from_payload`` reads with: the values are decoded JSON, so the
# Python forms code builds contracts with (a Decimal, a datetime, amounts as pairs) are
# refused there as they would be on the wire, e.g. a JSON number decoded as a Decimal.
_DECODED_JSON = {"decoded_json": True}


def _built_in_code(info: ValidationInfo) -> bool:
    return info.context is not _DECODED_JSON


def _refused(problem: str) -> PydanticCustomError:
    return PydanticCustomError("malformed", "{problem}", {"problem": problem})


def _decimal(value: object, info: ValidationInfo) -> Decimal:
    if isinstance(value, Decimal) and _built_in_code(info):
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise _refused(f"should be a decimal number, not {value!r}") from None
    else:
        raise _refused(f"should be a string, not {_shown(value)}")
    if not number.is_finite():
        raise _refused(f"should be a finite decimal number, not {_shown(value)}")
    return number


def _moment(value: object, info: ValidationInfo) -> datetime:
    if isinstance(value, datetime) and _built_in_code(info):
        return value
    if not isinstance(value, str):
        raise _refused(f"should be a string, not {_shown(value)}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _refused(f"should be an ISO 8601 date and time, not {value!r}") from None


# An amount, rate or percentage: a decimal string on the wire, never a float that would
# lose cents on the way; written exactly as ``str(Decimal)`` gives it.
DecimalText = Annotated[
    Decimal, PlainValidator(_decimal), PlainSerializer(str, return_type=str, when_used="always")
]

# A point in time in ISO 8601, as ``datetime.isoformat`` writes it.
Moment = Annotated[
    datetime,
    PlainValidator(_moment),
    PlainSerializer(datetime.isoformat, return_type=str, when_used="always"),
]


def fixed_array(value: object, width: int) -> tuple[Any, ...]:
    """A fixed-width JSON array (a pair, a triple), refused whole when its width differs."""
    if not isinstance(value, (list, tuple)) or len(value) != width:
        raise _refused(f"should be an array of {width}, not {_shown(value)}")
    return tuple(value)


def array_of(width: int) -> BeforeValidator:
    """The annotation of a field type that is a ``fixed_array`` of ``width`` on the wire."""
    return BeforeValidator(lambda value: fixed_array(value, width))


def _default_when_null(value: object) -> object:
    if value is None:
        raise PydanticUseDefault
    return value


# The annotation of an optional field whose default is not None: null reads as absent,
# as it does for every optional field.
NullAsDefault = BeforeValidator(_default_when_null)


def _amounts(value: object, info: ValidationInfo) -> tuple[tuple[str, Decimal], ...]:
    if isinstance(value, tuple) and _built_in_code(info):
        return _AMOUNT_PAIRS.validate_python(value)
    by_currency = _AMOUNTS_BY_CURRENCY.validate_python(value, context=info.context)
    return tuple(sorted(by_currency.items()))


def _amounts_object(pairs: tuple[tuple[str, Decimal], ...]) -> dict[str, str]:
    return {currency: str(amount) for currency, amount in pairs}


_AMOUNT_PAIRS: TypeAdapter[tuple[tuple[str, Decimal], ...]] = TypeAdapter(
    tuple[tuple[StrictStr, DecimalText], ...]
)
_AMOUNTS_BY_CURRENCY: TypeAdapter[dict[str, Decimal]] = TypeAdapter(dict[StrictStr, DecimalText])

# Amounts by currency: (currency, amount) pairs in currency order; on the wire a JSON
# object of decimal strings.
AmountsByCurrency = Annotated[
    tuple[tuple[str, Decimal], ...],
    PlainValidator(_amounts),
    PlainSerializer(_amounts_object, when_used="always"),
]


# -- refusals ----------------------------------------------------------------------------

# What a value of each JSON type is called when another one was sent.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "tuple_type": "an array",
    "list_type": "an array",
    "dict_type": "an object",
}
_NOT_AN_OBJECT = {"dataclass_type", "dataclass_exact_type", "model_type"}


def _malformed(event_type: str, error: ErrorDetails) -> MalformedPayload:
    return MalformedPayload(event_type, _where(error["loc"]), _problem(error))


def _where(loc: Sequence[int | str]) -> str:
    """``lines[0].unitPrice``: keys joined by dots, array items by index."""
    where = ""
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else part
    return where or "payload"


def _problem(error: ErrorDetails) -> str:
    kind, value, loc = error["type"], error["input"], error["loc"]
    if kind == "missing":
        return "is missing"
    if value is None and loc and isinstance(loc[-1], str):
        return "is null"
    if kind == "malformed":
        return str(error.get("ctx", {}).get("problem"))
    if kind in _NOT_AN_OBJECT:
        return f"is not an object: {_shown(value)}"
    if kind in _EXPECTED:
        return f"should be {_EXPECTED[kind]}, not {_shown(value)}"
    return error["msg"]


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
