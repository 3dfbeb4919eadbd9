"""Pydantic's validation errors in Dutch, by error ``type`` and its ``ctx`` (English as it was).

A type not in the table keeps pydantic's English ``msg``: nothing is lost, only not translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capacity.i18n.text import Lang, Said

_DATE = "Moet een geldige datum zijn (JJJJ-MM-DD)"
_DATETIME = "Moet een geldige datum met tijd zijn (bijv. 2026-01-31T14:00:00+01:00)"
_INT = "Moet een geheel getal zijn"
_NUMBER = "Moet een getal zijn"
_BOOL = "Moet true of false zijn"
_OBJECT = "Moet een object zijn"
_LIST = "Moet een lijst zijn"

# ``{chars}`` and ``{items}`` are the Dutch singular or plural of "character" and "item".
DUTCH: dict[str, str] = {
    "missing": "Verplicht veld",
    "extra_forbidden": "Extra velden zijn niet toegestaan",
    "json_invalid": "Ongeldige JSON",
    "json_type": "JSON-invoer moet tekst of bytes zijn",
    "none_required": "Moet null zijn",
    "string_type": "Moet tekst zijn",
    "string_unicode": "Moet geldige Unicode-tekst zijn",
    "string_not_ascii": "Mag alleen ASCII-tekens bevatten",
    "string_too_short": "Moet minstens {min_length} {chars} hebben",
    "string_too_long": "Mag hoogstens {max_length} {chars} hebben",
    "string_pattern_mismatch": "Moet passen bij het patroon '{pattern}'",
    "enum": "Moet {expected} zijn",
    "literal_error": "Moet {expected} zijn",
    "int_type": _INT,
    "int_parsing": _INT + "; de tekst is geen geheel getal",
    "int_parsing_size": "Getal te groot",
    "int_from_float": _INT + ", geen getal met decimalen",
    "float_type": _NUMBER,
    "float_parsing": _NUMBER + "; de tekst is geen getal",
    "finite_number": "Moet een eindig getal zijn",
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "bool_type": _BOOL,
    "bool_parsing": _BOOL,
    "greater_than": "Moet groter zijn dan {gt}",
    "greater_than_equal": "Moet groter dan of gelijk aan {ge} zijn",
    "less_than": "Moet kleiner zijn dan {lt}",
    "less_than_equal": "Moet kleiner dan of gelijk aan {le} zijn",
    "multiple_of": "Moet een veelvoud zijn van {multiple_of}",
    "too_short": "Moet minstens {min_length} {items} hebben, niet {actual_length}",
    "too_long": "Mag hoogstens {max_length} {items} hebben, niet {actual_length}",
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "iterable_type": _LIST,
    "dict_type": _OBJECT,
    "mapping_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "Moet een datum zonder tijd zijn",
    "date_past": "Moet in het verleden liggen",
    "date_future": "Moet in de toekomst liggen",
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "datetime_past": "Moet in het verleden liggen",
    "datetime_future": "Moet in de toekomst liggen",
    "time_type": "Moet een geldige tijd zijn",
    "time_parsing": "Moet een geldige tijd zijn",
    "timezone_aware": "Moet een tijdzone hebben (bijv. +01:00 of Z)",
    "timezone_naive": "Mag geen tijdzone hebben",
    "uuid_type": "Moet een geldige UUID zijn",
    "uuid_parsing": "Moet een geldige UUID zijn",
    "url_type": "Moet een geldige URL zijn",
    "url_parsing": "Moet een geldige URL zijn",
    "bytes_type": "Moet bytes zijn",
    "bytes_too_short": "Moet minstens {min_length} bytes hebben",
    "bytes_too_long": "Mag hoogstens {max_length} bytes hebben",
    "frozen_field": "Dit veld kan niet gewijzigd worden",
}


def _fields(ctx: Mapping[str, Any]) -> dict[str, Any]:
    fields = dict(ctx)
    n = ctx.get("min_length", ctx.get("max_length"))
    fields["chars"] = "teken" if n == 1 else "tekens"
    fields["items"] = "element" if n == 1 else "elementen"
    if isinstance(ctx.get("expected"), str):  # "'a', 'b' or 'c'"
        head, sep, last = ctx["expected"].rpartition(" or ")
        fields["expected"] = f"{head} of {last}" if sep else ctx["expected"]
    return fields


# Patterns a user can meet in a form, in words instead of the regular expression (registered
# by the module that defines the pattern: ``describe_pattern``).
PATTERN_WORDS: dict[str, Said] = {}


def describe_pattern(pattern: str, words: Said) -> str:
    """Say ``words`` instead of ``pattern`` when a value does not match it; returns the pattern."""
    PATTERN_WORDS[pattern] = words
    return pattern


def translated(error: Mapping[str, Any], lang: Lang) -> str:
    """The error's ``msg`` in ``lang``: English is pydantic's (or the service's) own."""
    msg = error.get("msg", "")
    if error.get("type") == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(str((error.get("ctx") or {}).get("pattern", "")))
        if words is not None:
            return words.nl if lang == "nl" else str(words)
    if lang == "en":
        return str(msg)
    if isinstance(msg, Said):  # raised by the service itself (e.g. a malformed If-Match)
        return msg.nl
    ctx = error.get("ctx") or {}
    if error.get("type") == "value_error":  # a validator's ValueError(messages.X())
        raised = ctx.get("error")
        said = raised.args[0] if isinstance(raised, Exception) and raised.args else None
        return said.nl if isinstance(said, Said) else str(msg)
    template = DUTCH.get(str(error.get("type", "")))
    if template is None:
        return str(msg)
    try:
        return template.format(**_fields(ctx))
    except (KeyError, IndexError, ValueError):  # a ctx without the field: keep the English
        return str(msg)
