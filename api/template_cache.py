"""The pages' compiled templates, kept between a server's workers and across its restarts.

A worker compiles all its templates as it starts (:mod:`api.warm_up`): 0.5-0.6 s of CPU for the
53 templates, paid by every worker at every start, including each one gunicorn starts in place of
a worker that was killed or timed out. Jinja's own ``FileSystemBytecodeCache`` keeps each
template's compiled code in a file, and a worker that finds it loads the code instead of
compiling the template: 0.07 s for the 53 (measured on this project's 2-core machine).

Where it is kept: Jinja's default folder, ``_jinja2-cache-<uid>`` in the system's temporary
folder, which Jinja makes with mode 0700 and refuses to use unless it is the user's own and is
so. Only the service account (or root) can write the code its workers then run, as with the
installed Python files. An entry is loaded only for the same template source (Jinja compares its
SHA-1) under the same Jinja and Python (the entry's header). The entries' names also carry
:func:`environment_digest`, a digest of the environment's settings that change the compiled
code (its syntax, escaping, and how each filter and test is called), so that another
configuration or another sealtrail never loads this one's code.

A folder that cannot be had or written costs only the compiling: a worker never fails for its
cache.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from typing import Any

import jinja2
from jinja2 import Environment, FileSystemBytecodeCache
from jinja2.bccache import Bucket


class KeptTemplates(FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates, whose reads and writes never fail a page."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()  # not read: the template is compiled

    def dump_bytecode(self, bucket: Bucket) -> None:
        with suppress(OSError):  # not kept: the next worker compiles it too
            super().dump_bytecode(bucket)


def keep_compiled_templates(environment: Environment, directory: str | None = None) -> bool:
    """Give ``environment`` the cache of compiled templates, in ``directory`` (by default
    Jinja's own folder for this user); False, and no cache, where that folder cannot be had."""
    pattern = f"sealtrail-{environment_digest(environment)}-%s.cache"
    try:
        environment.bytecode_cache = KeptTemplates(directory, pattern)
    except (OSError, RuntimeError):  # Jinja's RuntimeError: no folder that only we may write
        return False
    return True


def environment_digest(environment: Environment) -> str:
    """A digest of what, beside a template's source, Jinja's compiled code depends on."""
    settings = (
        jinja2.__version__,
        sorted(environment.extensions),
        getattr(environment, "newstyle_gettext", False),  # i18n's, read as it compiles
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        environment.optimized,
        environment.is_async,
        environment.sandboxed,
        _named(environment.code_generator_class),
        _named(environment.autoescape),
        # How the code calls each filter and test, and the finalizer: with the context, the
        # evaluation context, the environment or none (Jinja's ``pass_context`` and kin),
        # decided as it compiles.
        _calling(environment.finalize),
        sorted((name, _calling(f)) for name, f in environment.filters.items()),
        sorted((name, _calling(f)) for name, f in environment.tests.items()),
    )
    return hashlib.sha256(repr(settings).encode("utf-8")).hexdigest()[:16]


def _calling(function: Any) -> str:
    """What Jinja's compiled code passes a filter, test or finalizer first (None: absent)."""
    if function is None:
        return "absent"
    return repr(getattr(function, "jinja_pass_arg", None))


def _named(setting: Any) -> str:
    if callable(setting):
        return f"{getattr(setting, '__module__', '')}.{getattr(setting, '__qualname__', '')}"
    return repr(setting)
