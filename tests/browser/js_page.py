"""A page of the real browser with the verification modules of api/web/static/js imported.

WebCrypto exists only in a secure context, so the modules run in a page served from
http://127.0.0.1 (never ``about:blank``); each test calls into them with :meth:`JsPage.run`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

MODULES = {
    "merkle": "merkle.js",
    "checkpoint": "checkpoint.js",
    "evidence": "evidence.js",
    "encoding": "encoding.js",
}
"""The names the snippets use, and the module each names, under the static js folder."""

JS_ROOT = "/assets/js/"
"""Where the pages serve api/web/static/js."""


@dataclass
class JsPage:
    """A browser page where ``run`` evaluates an async function with the modules in scope."""

    page: Page
    js_root: str
    glue: str

    def run(self, function: str, argument: Any = None) -> Any:
        """Call ``function`` (JavaScript source of one async function) with ``argument``."""
        imports = "\n".join(
            f"const {name} = await import({self.js_root + path!r});"
            for name, path in MODULES.items()
        )
        source = f"""async (argument) => {{
            {imports}
            const toHex = encoding.toHex;
            {self.glue}
            return await ({function})(argument);
        }}"""
        return self.page.evaluate(source, argument)
