"""Logging: JSON lines in production, readable text in development, never a secret in either.

Every record passes ``Redact`` on its way out, whichever logger wrote it (our own, uvicorn's
access log, a library's): ``token=`` query values (the websocket URL), bearer tokens, API keys
and passwords (also a URL's, as in ``redis://:pw@host``) are replaced by ``[redacted]``, and so
are password hashes (argon2, bcrypt), long hex strings (episode tokens, key digests) and the
bound parameters SQLAlchemy prints with an error (every engine hides them too: this is the net
under that, for an engine or a library that does not).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
MARK = "_capacity_handler"

_SECRETS = [
    # ?token=... / &access_token=... / password=... in URLs, forms and messages
    (
        re.compile(r"(?i)\b((?:access_)?token|password|api_key|key|secret)=([^&\s\"']+)"),
        r"\1=[redacted]",
    ),
    # redis://:pw@host, postgresql://user:pw@host: the password in a URL's user part
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1[redacted]@"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(r"(?i)(x-api-key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"), r"\1[redacted]"),
    (re.compile(r"\bcap_[A-Za-z0-9_-]{8,}"), "cap_[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "[redacted-jwt]"),
    # password hashes: $argon2id$v=19$m=...$salt$hash, $2b$12$... (bcrypt)
    (re.compile(r"\$argon2(?:id|i|d)\$[^\s'\",)\]]+"), "[redacted-hash]"),
    (re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}"), "[redacted-hash]"),
    # episode tokens (32 hex), key digests (64 hex) and any longer hex run
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), "[redacted-hex]"),
    # 'password': '...', "password_hash": "...", in a dict or JSON a message quotes
    (
        re.compile(
            r"(?i)([\"']?\b(?:password|password_hash|key_hash|secret|access_token|episode)[\"']?"
            r"\s*:\s*)([\"'])[^\"']*\2"
        ),
        r"\1\2[redacted]\2",
    ),
    # SQLAlchemy's "[parameters: (...)]" line: values of any kind, never logged
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: redacted]"),
]


def redact(text: str) -> str:
    """The text with every token, key and password value replaced."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    """Rewrites each record's final message (and exception text) without its secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (when known)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info or record.exc_text:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def configure(*, json_lines: bool) -> None:
    """One stderr handler on the root logger; uvicorn's loggers hand their records to it.

    Idempotent: a second call (another app in the same process) replaces our handler only.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, MARK, True)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(Redact())
    root.addHandler(handler)
    for other in root.handlers:  # handlers others installed (basicConfig) must not leak either
        if not any(isinstance(f, Redact) for f in other.filters):
            other.addFilter(Redact())
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):  # uvicorn's own plain handlers would print secrets
            logger.removeHandler(old)
        logger.propagate = True
    # Libraries that could print request lines or URLs go through the same filter via root.
