"""Every phrase the pages mark for translation has its Portuguese (api/web/portuguese.toml), and
the catalogue holds no phrase the pages no longer say."""

from __future__ import annotations

import ast
from pathlib import Path

from jinja2 import Environment
from wtforms import Field
from wtforms.validators import EqualTo, InputRequired, Regexp

from api.web import (
    access_review,
    account_forms,
    account_lines,
    administering,
    as_of,
    audit_review,
    database_lock,
    delegation,
    errors,
    forms,
    lock_steps,
    navigation,
    record_fields,
    sign,
    signing,
    source_verification,
)
from api.web.account import key_state  # noqa: F401 - its states are phrases (below)
from api.web.wording import portuguese
from tests.conftest import STUDY
from tests.web.test_refusal_wording import raised_templates

WEB = Path(forms.__file__).parent
KEY_STATES = {"valid", "not yet valid", "ended"}
AS_OF_INSTANT_REFUSALS = {
    "not a real date and time",
    'give "YYYY-MM-DDTHH:MM:SSZ" (UTC) or "YYYY-MM-DD"',
}
"""What api.schemas.fields.as_of_instant says of a time that is not one (as_of.py translates it)."""


def template_phrases() -> set[str]:
    environment = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    found: set[str] = set()
    for template in (WEB / "templates").rglob("*.html"):
        for _line, _function, message in environment.extract_translations(
            template.read_text(encoding="utf-8")
        ):
            # A call on a variable (``_(title)``) names no phrase: its values are listed below.
            if isinstance(message, str):
                found.add(message)
            elif message is not None:
                found.update(part for part in message if isinstance(part, str))
    return found


def python_phrases() -> set[str]:
    """Phrases given to ``_``/``gettext`` in the pages' modules, as literal strings."""
    found: set[str] = set()
    for module in WEB.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "gettext")
                and node.args
            ):
                argument = node.args[0]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found.add(argument.value)
                elif isinstance(argument, ast.Name) and hasattr(errors, argument.id):
                    found.add(getattr(errors, argument.id))
    return found


def form_phrases() -> set[str]:
    """Labels, hints and validator messages of every form (the templates translate them)."""
    found: set[str] = set()
    for form in [*vars(forms).values(), *vars(account_forms).values()]:
        if not (isinstance(form, type) and issubclass(form, forms.FlaskForm)):
            continue
        for unbound in vars(form).values():
            if not hasattr(unbound, "field_class") or not issubclass(unbound.field_class, Field):
                continue
            found.add(unbound.args[0] if unbound.args else unbound.kwargs.get("label", ""))
            found.add(unbound.kwargs.get("description", ""))
            for validator in unbound.kwargs.get("validators", []):
                if isinstance(validator, InputRequired | EqualTo | Regexp) and validator.message:
                    found.add(validator.message)
    return {phrase for phrase in found if phrase}


def phrases() -> set[str]:
    return (
        template_phrases()
        | python_phrases()
        | form_phrases()
        | set(errors.TITLES.values())
        | {entry.name for entry in navigation.NAVIGATION}
        | KEY_STATES
        | set(sign.MEANINGS.values())
        | set(sign.MILESTONES.values())
        | set(forms.AUDIT_FILTER_MESSAGES)
        | set(forms.QUERY_FILTER_MESSAGES)
        | set(forms.QUERY_ORDERS.values())
        | set(account_lines.ROLE_STANDINGS)
        | {account_forms.CHOOSE_A_ROLE, account_forms.NO_ROLE_YET}
        | {account_forms.CHOOSE_A_SITE, account_forms.CHOOSE_A_KEY}
        | {signing.NOTHING_SIGNED, signing.NOT_OFFERED}
        | {page.title for page in administering.CHANGES.values()}
        | {page.button for page in administering.CHANGES.values()}
        | set(source_verification.STANDINGS)
        | {account_forms.WHOLE_STUDY}
        | {page.title for page in lock_steps.STEPS.values()}
        | {page.button for page in lock_steps.STEPS.values()}
        | set(delegation.TASK_TITLES)
        | {page.title for page in delegation.changes_at("RP").values()}
        | {page.button for page in delegation.changes_at("RP").values()}
        | {page.title for page in delegation.designations_at("RP").values()}
        | {page.button for page in delegation.designations_at("RP").values()}
        | {access_review.review_page(None, []).title, access_review.review_page(None, []).button}
        | {audit_review.TITLE, audit_review.BUTTON}
        | {database_lock.LOCK.done, database_lock.REOPEN.done}
        | record_fields.phrases(STUDY)
        | raised_templates()[0]
        | {as_of.POSITION_ASKED, as_of.BOTH_ASKED, as_of.NEITHER_ASKED}
        | AS_OF_INSTANT_REFUSALS
    )


def test_every_phrase_of_the_pages_has_its_portuguese() -> None:
    missing = sorted(phrases() - set(portuguese()))

    assert missing == [], "add these to api/web/portuguese.toml:\n" + "\n".join(
        f'"{phrase}" = ""' for phrase in missing
    )


def test_the_catalogue_holds_no_phrase_the_pages_do_not_say() -> None:
    assert sorted(set(portuguese()) - phrases()) == []


def test_a_translation_keeps_the_variables_of_its_phrase() -> None:
    for english, translated in portuguese().items():
        assert sorted(_variables(english)) == sorted(_variables(translated)), english
        assert translated.strip(), english


def _variables(phrase: str) -> list[str]:
    import re

    return re.findall(r"%\((\w+)\)s", phrase)
