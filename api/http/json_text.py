"""JSON that is safe to drop into a web page: ``<``, ``>`` and ``&`` written as ``\\u003c``...

Free text is stored verbatim (it is signed), so a coordinator may well have typed
``<script>`` into a field. Every JSON parser reads the escaped form back as the very same
string, but no browser, template or log viewer that shows the raw answer can mistake it for
markup. Go's encoding/json does the same by default, for the same reason.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


class HtmlSafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with the three characters that start markup escaped."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # After encoding the three characters can only stand inside strings, so replacing them
        # with their \\u escapes changes no value.
        return super().dumps(obj, **kwargs).translate(_HTML_SAFE)
