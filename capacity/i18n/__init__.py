"""Server messages in Dutch and English: a message catalogue and Accept-Language negotiation.

Every human message the service answers with is a ``Text`` in ``messages.py`` (English and
Dutch, the same ``{fields}``); a raise site calls it with the fields, which gives a ``Said``:
the English text as a ``str`` (logs, the CLI, existing clients) that also knows its Dutch.
``api/errors.py`` answers in the language the request prefers (``language``).
"""

from capacity.i18n.text import Lang, Said, Text, either, in_language, language, scope_language

__all__ = ["Lang", "Said", "Text", "either", "in_language", "language", "scope_language"]
