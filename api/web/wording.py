"""The pages in Portuguese and English, chosen per person.

Templates and views write English and mark it for translation, gettext-style: ``{{ _("Sign in")
}}`` in a template (Jinja's i18n extension), :func:`gettext` in Python. The Portuguese of each
phrase is kept in ``portuguese.toml`` beside this module (``"Sign in" = "Entrar"``): no catalogue
to compile, nothing to build; tests/web/test_wording.py fails for a marked phrase it lacks. The
reports name both languages side by side (``Ação / Action``); a page speaks one, the person's.

What the store says when it refuses (a typed error of domain/, infrastructure/ or signatures/) is
an English template and its parameters (``signatures.errors.WordedError``); :func:`refusal` says
it in the page's language from ``portuguese_refusals.toml``, the same catalogue's second file
(tests/web/test_refusal_wording.py fails for a template raised and missing there).

The language is the signed-in person's choice (kept with their account's preferences), or
before signing in the one chosen in this browser, or the browser's own preference.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session

from api.store import get_store

ENGLISH, PORTUGUESE = "en", "pt-BR"
LANGUAGES = {ENGLISH: "English", PORTUGUESE: "Português (Brasil)"}
"""The languages of the pages, by BCP 47 tag, each named in itself."""

CATALOGUE = (
    Path(__file__).with_name("portuguese.toml"),
    Path(__file__).with_name("portuguese_refusals.toml"),
)
"""The pages' own phrases, then the store's refusals."""


@cache
def portuguese() -> dict[str, str]:
    """English phrase -> its Portuguese, as the catalogue's files hold them."""
    phrases: dict[str, str] = {}
    for part in CATALOGUE:
        with part.open("rb") as file:
            phrases.update((str(en), str(pt)) for en, pt in tomllib.load(file).items())
    return phrases


def language() -> str:
    """The language of this request's page (computed once per request)."""
    if "language" not in g:
        g.language = _chosen()
    return str(g.language)


def _chosen() -> str:
    account = g.get("account")
    if account is not None:
        kept = get_store().credentials.language(account.user_id)
        if kept in LANGUAGES:
            return kept
    in_browser = session.get("language")
    if in_browser in LANGUAGES:
        return str(in_browser)
    preferred = request.accept_languages.best_match([PORTUGUESE, "pt", ENGLISH])
    return PORTUGUESE if preferred in (PORTUGUESE, "pt") else ENGLISH


def choose_language(tag: str) -> None:
    """Keep ``tag`` as this person's language (and this browser's, before signing in)."""
    session["language"] = tag
    account = g.get("account")
    if account is not None:
        get_store().credentials.set_language(account.user_id, tag)
    g.language = tag


def gettext(phrase: str, **variables: Any) -> str:
    """``phrase`` in the page's language, with ``%(name)s`` filled from ``variables``."""
    said = portuguese().get(phrase, phrase) if language() == PORTUGUESE else phrase
    return said % variables if variables else said


def translated(message: str) -> str:
    """A message shown on a page (an English phrase of the pages, or a service's words, which may
    quote what a person typed) in the page's language, as text to escape: a template's ``_()``
    takes its phrase for markup (Jinja's i18n), which only the pages' own phrases may be."""
    return gettext(str(message))


def worded(error: Exception) -> str:
    """A typed error's message in the page's language, as text to escape: its template in
    Portuguese filled with its parameters, which are shown as given (codes, user ids, dates, log
    positions, what a person typed, role and action names as the log records them). An error
    whose template has no Portuguese yet (a test names each) says its English."""
    template = getattr(error, "template", None)
    if language() != PORTUGUESE or not isinstance(template, str):
        return str(error)
    said = portuguese().get(template)
    if said is None:
        return str(error)
    parameters = getattr(error, "parameters", {})
    return said % parameters if parameters else said


def ngettext(singular: str, plural: str, count: int, **variables: Any) -> str:
    """The singular or plural phrase for ``count``, in the page's language."""
    return gettext(singular if count == 1 else plural, num=count, **variables)


def install(app: Flask) -> None:
    """Give the templates ``_``, ``gettext``, ``ngettext`` and ``{% trans %}``, the filter
    ``translated`` (a message to show as text), and the page's ``language`` and the ``languages``
    offered."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )
    app.jinja_env.globals.update(language=language, languages=LANGUAGES)
    app.jinja_env.filters["translated"] = translated
