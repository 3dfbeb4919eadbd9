"""Every message the service can answer with has Dutch, and no raise site bypasses the catalogue.

The guard reads the source: an ``InputError``/``AuthError``/``Forbidden``/``NotFound``/
``Conflict``/``Unavailable`` (or an ``HTTPException``'s detail) built from a plain string
(literal, f-string, ``str(...)``), a pydantic validator's ``ValueError`` from one, or a
hand-made validation error with a plain ``msg`` would reach a Dutch screen in English. Use
``messages.X(...)`` (capacity/i18n/messages.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from capacity.i18n import Said, Text, either, in_language, language, messages

ROOT = Path(__file__).resolve().parents[2] / "capacity"
ERRORS = {"InputError", "AuthError", "Forbidden", "NotFound", "Conflict", "Unavailable"}
VALIDATORS = {"field_validator", "model_validator"}
CATALOGUE = {name: v for name, v in vars(messages).items() if isinstance(v, Text)}


def _plain(node: ast.expr) -> bool:
    """Text that can only be English: a literal, an f-string, a sum of them, str()/.format()."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _plain(node.left) or _plain(node.right)
    if isinstance(node, ast.Call):
        func = node.func
        return (isinstance(func, ast.Name) and func.id == "str") or (
            isinstance(func, ast.Attribute) and func.attr in ("format", "join")
        )
    return False


def _catalogued(node: ast.expr) -> str | None:
    """What is wrong with a ``messages.NAME(...)`` call (None when fine or not such a call)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = node.func.value
        if (
            isinstance(owner, ast.Name)
            and owner.id == "messages"
            and node.func.attr not in CATALOGUE
        ):
            return f"messages.{node.func.attr} is not in the catalogue"
    return None


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _validator_bodies(tree: ast.AST) -> set[int]:
    """Line numbers inside pydantic validators of request models (a setting's validator speaks
    to whoever starts the service, in English, and never answers a request)."""
    lines: set[int] = set()
    settings = [
        c
        for c in ast.walk(tree)
        if isinstance(c, ast.ClassDef) and "BaseSettings" in map(_name, c.bases)
    ]
    skipped = {n for c in settings for n in ast.walk(c)}
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = {_name(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list}
            if names & VALIDATORS:
                lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def problems(source: str, where: str) -> tuple[list[str], int]:
    """(English-only messages found, messages checked) in one module's source."""
    tree = ast.parse(source)
    in_validator = _validator_bodies(tree)
    found, checked = [], 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        texts: list[ast.expr] = []
        if name in ERRORS:
            position = 1 if name == "InputError" else 0
            texts = node.args[position : position + 1]
            texts += [k.value for k in node.keywords if k.arg == "message"]
        elif name == "HTTPException":
            texts = node.args[1:2] + [k.value for k in node.keywords if k.arg == "detail"]
        elif name == "ValueError" and node.lineno in in_validator:
            texts = node.args[:1]
        elif name == "RequestValidationError" and node.args:
            texts = [
                v
                for d in ast.walk(node.args[0])
                if isinstance(d, ast.Dict)
                for k, v in zip(d.keys, d.values, strict=True)
                if isinstance(k, ast.Constant) and k.value == "msg"
            ]
            # ``"msg": msg`` with msg assigned just before: follow the name in this module.
            texts = [_assigned(tree, t) for t in texts]
        for text in texts:
            checked += 1
            wrong = "English only" if _plain(text) else _catalogued(text)
            if wrong:
                found.append(f"{where}:{node.lineno}: {name}(...): {wrong}")
    return found, checked


def _assigned(tree: ast.AST, node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Name):
        for a in ast.walk(tree):
            if isinstance(a, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.id for t in a.targets
            ):
                return a.value
    return node


def test_no_raise_site_in_capacity_answers_english_only() -> None:
    found, checked = [], 0
    for path in sorted(ROOT.rglob("*.py")):
        more, n = problems(path.read_text(), str(path.relative_to(ROOT.parent)))
        found += more
        checked += n
    assert not found, "add a Text to capacity/i18n/messages.py and raise with it:\n" + "\n".join(
        found
    )
    assert checked >= 80  # the scan sees the raise sites (it is not looking at nothing)


@pytest.mark.parametrize(
    "line",
    [
        'raise NotFound(f"unknown thing {x!r}")',
        'raise InputError("field", "bad value")',
        'raise InputError(field="f", message="bad " + x)',
        'raise Forbidden("no " + "way")',
        "raise AuthError(str(exc))",
        'failed = Unavailable("down")',
        'raise HTTPException(status_code=418, detail="a teapot")',
        "raise Conflict(messages.NO_SUCH_TEXT())",
        'RequestValidationError([{"loc": ("header", "X"), "msg": "bad", "type": "value_error"}])',
        "@field_validator('x')\ndef _v(cls, v):\n    raise ValueError(f'{v} is bad')",
    ],
)
def test_the_guard_catches_an_english_only_raise_site(line: str) -> None:
    found, checked = problems(line, "example.py")
    assert checked == 1 and len(found) == 1, found


def test_the_guard_accepts_a_catalogued_message() -> None:
    source = (
        "raise NotFound(messages.UNKNOWN_FACILITY(facility=x))\n"
        "raise InputError('until', messages.UNTIL_PAST())\n"
        "raise ValueError('not in a validator: a configuration error')\n"
    )
    assert problems(source, "example.py") == ([], 2)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogued_message_has_english_and_dutch_with_the_same_fields(name: str) -> None:
    text = CATALOGUE[name]
    assert text.en.strip() and text.nl.strip()
    assert text.nl != text.en, f"{name}: the Dutch is the English"
    assert text.fields("nl") == text.fields("en"), name
    said = text(**{f: "x" for f in text.fields("en")})
    assert str(said) != said.nl and "{" not in said.nl


def test_a_message_is_english_as_str_and_knows_its_dutch() -> None:
    said = messages.NEEDS_ROLE(roles=either(["facility_staff", "admin"]))
    assert said == "this needs the role facility_staff or admin"  # what API clients saw before
    assert in_language(said, "en") == "this needs the role facility_staff or admin"
    assert in_language(said, "nl") == "hiervoor is de rol facility_staff of admin nodig"
    assert in_language("plain", "nl") == "plain"  # not catalogued: English stays
    assert isinstance(messages.UNKNOWN_REGION(region="x"), Said)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("nl", "nl"),
        ("nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl"),
        ("nl-BE", "nl"),
        ("en", "en"),
        ("en-GB,en;q=0.9,nl;q=0.8", "en"),
        ("de-DE,nl;q=0.5", "nl"),
        ("de, fr", "en"),
        ("*", "en"),
        ("nl;q=0", "en"),
        ("en;q=0.5, nl;q=0.6", "nl"),
        ("nl;q=bad, en;q=0.1", "en"),
        ("NL", "nl"),
    ],
)
def test_the_request_language_is_dutch_only_when_preferred(header: str | None, lang: str) -> None:
    assert language(header) == lang
