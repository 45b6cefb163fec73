"""What the store says when it refuses reaches a Portuguese page in Portuguese: every typed error
a page can show (each family of api/statuses.py, and every class below it) is raised with a
literal English template whose Portuguese is in api/web/portuguese_refusals.toml, and a page
fills it with the error's parameters. The API keeps the English."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import api.web.log_evidence  # noqa: F401 - its errors are of the families too
import domain.errors
import infrastructure.errors
import signatures.errors
from api.statuses import STATUS_OF
from domain.errors import EligibilityNotMet, SubjectNotFound
from infrastructure.bootstrap import Store
from tests.e2e.conftest import SUBJECT
from tests.web.conftest import Browser, text
from tests.web.signed_forms import SigningPage
from tests.web.test_query_pages import Trial, signed_in, versions

ROOT = Path(domain.errors.__file__).parents[1]
PACKAGES = ("domain", "infrastructure", "signatures", "projections", "api")

NOT_A_TEMPLATE = {
    # The class words itself: its one template is its own (below), its parameter the failures.
    ("domain/subject/enrolment.py", "EligibilityNotMet"),
    # The library's own words (rfc8785, Python's codec): no template of ours to translate.
    ("signatures/canonical.py", "CanonicalFormError"),
    # A refusal passed on as it was worded by the error it replaces (its template, its parameters).
    ("domain/signed.py", "ContentMismatch"),
    # Said where the pages are not served: starting the server, reading the server's key files.
    ("api/console/server.py", "ConfigurationError"),
    ("infrastructure/identity/key_files.py", "StoreNotInitialised"),
}
"""Raise sites whose message is not a literal template, each with the reason."""

NOT_ON_A_PAGE = {
    # The ODM export's refusals: the export is the API's and the console's download, no page
    # offers it; its messages stay English (with the ODM's own vocabulary) until one does.
    "OdmExportRefused",
    "OdmSchemaInvalid",
}
"""Typed errors no page can show, each with the reason."""


def _below(family: type[Exception]) -> Iterator[type[Exception]]:
    yield family
    for subclass in family.__subclasses__():
        yield from _below(subclass)


@cache
def typed_errors() -> set[str]:
    """The name of every class of every family api/statuses.py maps to a status, every module
    of the application imported first (a class is a subclass once its module is loaded)."""
    for package in PACKAGES:
        for found in pkgutil.walk_packages(
            importlib.import_module(package).__path__, f"{package}."
        ):
            importlib.import_module(found.name)
    return {
        error.__name__ for family, _status in STATUS_OF for error in _below(family)
    } - NOT_ON_A_PAGE


@cache
def raised_templates() -> tuple[set[str], list[str]]:
    """Every template a typed error is made with in the application's code, and each place
    that makes one with something else (file, line, class). A template may be a literal at the
    call, or a module's constant (``AuthenticationFailed(WRONG_CREDENTIALS)``) or a value of a
    module's table of literals (``WitnessQuorumNotMet(QUORUM_NOT_MET[...])``)."""
    names = typed_errors()
    templates: set[str] = {EligibilityNotMet([]).template}
    unworded: list[str] = []
    for package in PACKAGES:
        for module in sorted((ROOT / package).rglob("*.py")):
            where = module.relative_to(ROOT).as_posix()
            tree = ast.parse(module.read_text(encoding="utf-8"))
            constants = _module_constants(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                called = node.func
                name = getattr(called, "id", None) or getattr(called, "attr", None)
                if name not in names or not node.args:
                    continue
                first = node.args[0]
                named = first.value if isinstance(first, ast.Subscript) else first
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    templates.add(first.value)
                elif isinstance(named, ast.Name) and named.id in constants:
                    templates.update(constants[named.id])
                elif (where, name) not in NOT_A_TEMPLATE:
                    unworded.append(f"{where}:{node.lineno} {name}({ast.unparse(first)[:60]})")
    return templates, unworded


def _module_constants(tree: ast.Module) -> dict[str, list[str]]:
    """A module's constants that are literal text, or tables whose values all are."""
    found: dict[str, list[str]] = {}
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target, value = statement.targets[0], statement.value
        if not isinstance(target, ast.Name):
            continue
        values = value.values if isinstance(value, ast.Dict) else [value]
        if values and all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
            found[target.id] = [str(v.value) for v in values if isinstance(v, ast.Constant)]
    return found


def refusal_catalogue() -> dict[str, str]:
    import tomllib

    from api.web.wording import CATALOGUE

    with CATALOGUE[1].open("rb") as file:
        return tomllib.load(file)


def test_the_families_reach_every_error_module() -> None:
    """The enumeration below cannot miss a module's errors: each is of some family."""
    for module in (domain.errors, infrastructure.errors, signatures.errors):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Exception):
                if value is signatures.errors.WordedError:
                    continue
                assert value.__name__ in typed_errors(), value


def test_every_typed_error_is_raised_with_a_literal_template() -> None:
    _templates, unworded = raised_templates()

    assert unworded == [], "raise these as X('template %(name)s', name=...):\n" + "\n".join(
        unworded
    )


def test_every_template_a_page_can_show_has_its_portuguese() -> None:
    from api.web.wording import portuguese

    templates, _unworded = raised_templates()
    missing = sorted(templates - set(portuguese()))

    assert missing == [], "add these to api/web/portuguese_refusals.toml:\n" + "\n".join(
        f'"{template}" = ""' for template in missing
    )


def test_the_refusal_catalogue_holds_no_template_nothing_raises() -> None:
    templates, _unworded = raised_templates()

    assert sorted(set(refusal_catalogue()) - templates) == []


def test_a_template_keeps_its_parameters_and_escapes_in_portuguese() -> None:
    for english, portuguese in refusal_catalogue().items():
        assert sorted(re.findall(r"%\((\w+)\)", english)) == sorted(
            re.findall(r"%\((\w+)\)", portuguese)
        ), english
        assert english.count("%%") == portuguese.count("%%"), english


def test_an_error_says_its_template_filled_in_english() -> None:
    error = SubjectNotFound("%(subject)s has not been screened", subject="NCT01297972/RP-01")

    assert str(error) == "NCT01297972/RP-01 has not been screened"
    assert (error.template, error.parameters) == (
        "%(subject)s has not been screened",
        {"subject": "NCT01297972/RP-01"},
    )
    assert str(SubjectNotFound("100% of them")) == "100% of them"


@pytest.fixture
def trial(timed: Store) -> Trial:
    return Trial(timed)


def in_portuguese(browser: Browser) -> Browser:
    chosen = browser.submit("/account", "/language", {"language": "pt-BR", "next": "/account"})
    assert chosen.status_code == 302, text(chosen)
    return browser


ONE_BACKEND = pytest.mark.parametrize("backend", ["sqlite"])
"""The wording is the pages' alone: SQLite's store shows it as PostgreSQL's would."""


@ONE_BACKEND
def test_a_portuguese_page_shows_the_stores_refusal_in_portuguese_and_the_api_in_english(
    timed: Store, trial: Trial
) -> None:
    number = trial.raise_query()
    coordinator = in_portuguese(signed_in(timed, trial.coordinator))
    page = SigningPage(coordinator.get(f"/queries/{SUBJECT}/{number}"))  # read while open
    trial.submit(trial.monitor, "QueryClosed", {"query": number, "resolution": "Seen."}, SUBJECT)
    before = versions(trial)

    answer = coordinator.client.post(
        f"/queries/{SUBJECT}/{number}/answer",
        data=page.signed(trial.coordinator, {"answer": "Resposta tardia"}, version=before + 1),
    )
    over_the_api = trial.site.submit(
        trial.coordinator, "QueryAnswered", {"query": number, "answer": "Late"}, subject=SUBJECT
    )

    shown = text(answer)
    assert answer.status_code == 200, shown
    assert (
        f"a query {number} foi encerrada pelo registro {number + 1}, portanto não é answered"
        in shown
    )
    assert "was closed by entry" not in shown
    assert "Resposta tardia" in shown
    assert versions(trial) == before
    assert over_the_api.status_code == 422
    assert over_the_api.get_json()["detail"] == (
        f"query {number} was closed by entry {number + 1}, so is not answered (raise a new "
        "query instead)"
    )


@ONE_BACKEND
def test_a_portuguese_error_page_says_a_subject_not_found_in_portuguese(
    timed: Store, trial: Trial
) -> None:
    outsider = in_portuguese(signed_in(timed, trial.sp_coordinator))

    shown = outsider.get(f"/subjects/{SUBJECT}")

    assert shown.status_code == 404
    assert f"NCT01297972/{SUBJECT} não foi triado" in text(shown)
    assert "has not been screened" not in text(shown)
