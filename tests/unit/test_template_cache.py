"""The pages' compiled templates kept between workers (api.template_cache): loaded by the next
worker, never for another source or another configuration, and never a worker's failure."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, pass_context
from jinja2.runtime import Context

from api.template_cache import environment_digest, keep_compiled_templates

REPOSITORY = Path(__file__).resolve().parents[2]
PAGES = REPOSITORY / "api" / "web" / "templates"

WORKER = """
import types
from api.http.app import create_app
from api.warm_up import ready_worker
app = create_app()
compiled = []
compile_ = app.jinja_env.compile
app.jinja_env.compile = lambda *args, **kwargs: compiled.append(1) or compile_(*args, **kwargs)
ready_worker(app)
print(len(compiled), len(app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html"))))
"""


def a_worker_started(temporary: Path) -> tuple[int, int]:
    """How many templates a new worker (its app built, then made ready as gunicorn.conf.py
    makes it) compiled, of how many pages, with ``temporary`` as the system's temporary
    folder."""
    started = subprocess.run(
        [sys.executable, "-c", WORKER],
        cwd=REPOSITORY,
        env={**os.environ, "TMPDIR": str(temporary)},
        capture_output=True,
        text=True,
        check=True,
    )
    compiled, pages = started.stdout.split()
    return int(compiled), int(pages)


def environment(templates: dict[str, str], **settings: Any) -> Environment:
    return Environment(loader=DictLoader(templates), **settings)


def test_the_next_worker_loads_every_page_the_first_compiled(tmp_path: Path) -> None:
    (first, pages), (second, _) = a_worker_started(tmp_path), a_worker_started(tmp_path)

    kept = list((tmp_path / f"_jinja2-cache-{os.getuid()}").iterdir())
    assert first == pages >= len(list(PAGES.rglob("*.html")))
    assert second == 0
    assert len(kept) == pages
    assert all(entry.name.startswith("sealtrail-") for entry in kept)


def test_a_changed_template_is_compiled_again_not_loaded(tmp_path: Path) -> None:
    before = environment({"page.html": "before {{ x }}"})
    after = environment({"page.html": "after {{ x }}"})
    assert keep_compiled_templates(before, str(tmp_path))
    assert keep_compiled_templates(after, str(tmp_path))

    assert before.get_template("page.html").render(x=1) == "before 1"
    assert after.get_template("page.html").render(x=1) == "after 1"


def test_another_configuration_never_loads_this_ones_code(tmp_path: Path) -> None:
    # The same source: escaping is compiled in, so one configuration's code would be wrong for
    # the other's (Jinja alone would load it, by the source's checksum).
    escaping = environment({"page.html": "{{ x }}"}, autoescape=True)
    verbatim = environment({"page.html": "{{ x }}"}, autoescape=False)
    assert keep_compiled_templates(escaping, str(tmp_path))
    assert keep_compiled_templates(verbatim, str(tmp_path))

    assert escaping.get_template("page.html").render(x="<b>") == "&lt;b&gt;"
    assert verbatim.get_template("page.html").render(x="<b>") == "<b>"
    assert environment_digest(escaping) != environment_digest(verbatim)
    assert len(list(tmp_path.iterdir())) == 2


def test_a_filter_now_given_the_context_is_called_so_not_as_the_cached_code_called_it(
    tmp_path: Path,
) -> None:
    # The compiled code passes the context to a filter that asks for it: a later version of the
    # app whose filter of the same name does, over the same template source, must compile again.
    def plain(value: str) -> str:
        return f"plain {value}"

    @pass_context
    def with_context(context: Context, value: str) -> str:
        return f"{context['site']} {value}"

    before = environment({"page.html": "{{ x | shown }}"})
    before.filters["shown"] = plain
    after = environment({"page.html": "{{ x | shown }}"})
    after.filters["shown"] = with_context
    assert keep_compiled_templates(before, str(tmp_path))
    assert keep_compiled_templates(after, str(tmp_path))

    assert before.get_template("page.html").render(x=1) == "plain 1"
    assert after.get_template("page.html").render(x=1, site="RP") == "RP 1"


def test_a_folder_that_cannot_be_written_costs_only_the_compiling(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("", encoding="utf-8")
    pages = environment({"page.html": "page {{ x }}"})
    assert keep_compiled_templates(pages, str(not_a_folder))

    assert pages.get_template("page.html").render(x=1) == "page 1"


def test_no_folder_only_this_user_may_write_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / f"_jinja2-cache-{os.getuid()}").symlink_to(elsewhere)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pages = environment({"page.html": "page {{ x }}"})

    assert not keep_compiled_templates(pages)
    assert pages.bytecode_cache is None
    assert pages.get_template("page.html").render(x=1) == "page 1"
    assert list(elsewhere.iterdir()) == []
