"""A message in both languages, and which of them a request prefers."""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Any, Literal

Lang = Literal["nl", "en"]
SUPPORTED: tuple[Lang, ...] = ("nl", "en")


class Said(str):
    """A message as said: its English text (what ``str`` gives) that also knows its Dutch."""

    nl: str

    def __new__(cls, en: str, nl: str) -> Said:
        said = super().__new__(cls, en)
        said.nl = nl
        return said

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        return str(self), self.nl


class Text:
    """One message of the catalogue: English and Dutch with the same ``str.format`` fields."""

    def __init__(self, en: str, nl: str):
        self.en, self.nl = en, nl

    def __call__(self, **fields: Any) -> Said:
        # A field that is itself said (a list joined with "or"/"of") is said in each language.
        en = {k: str(v) if isinstance(v, Said) else v for k, v in fields.items()}
        nl = {k: v.nl if isinstance(v, Said) else v for k, v in fields.items()}
        return Said(self.en.format(**en), self.nl.format(**nl))

    def fields(self, lang: Lang) -> set[str]:
        """The names of the ``{fields}`` the text in ``lang`` uses."""
        text = self.nl if lang == "nl" else self.en
        return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def either(items: list[str]) -> Said:
    """``a or b`` / ``a of b``: alternatives inside a message."""
    return Said(" or ".join(items), " of ".join(items))


def in_language(message: str, lang: Lang) -> str:
    """The message in ``lang``; a plain ``str`` (not from the catalogue) only has English."""
    if lang == "nl" and isinstance(message, Said):
        return message.nl
    return str(message)


def language(accept_language: str | None) -> Lang:
    """Dutch when ``Accept-Language`` prefers it over English; English otherwise.

    Without the header (machines, scripts, existing API clients) the answer stays English. Of
    the languages named, the supported one with the highest q wins (``nl-BE`` counts as ``nl``);
    on a tie the first named; ``*`` and unsupported languages do not count.
    """
    best: tuple[float, Lang] = (0.0, "en")
    for part in (accept_language or "")[:1000].split(",")[:32]:
        tag, _, params = part.partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in SUPPORTED:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best[0]:
            best = (q, "nl" if primary == "nl" else "en")
    return best[1]


def scope_language(scope: Mapping[str, Any]) -> Lang:
    """``language`` of a raw ASGI request (for middleware that answers before any route)."""
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            return language(value.decode("latin-1"))
    return "en"
