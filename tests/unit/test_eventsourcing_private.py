"""eventsourcing's protected members that sealtrail relies on: each as the library has it, and
none used but in the module that the list names (infrastructure/store/eventsourcing_private.py).

The scan looks at every class of sealtrail's packages that derives from an eventsourcing class:
a method it defines, or an attribute it reads or sets, under the name of a protected member of
one of its eventsourcing ancestors (a method of the class, or an attribute its code sets on
``self``) is a use.
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import CodeType

import eventsourcing

from infrastructure.store.eventsourcing_private import PROTECTED_MEMBERS, changed_members

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "domain", "infrastructure", "projections", "signatures")


def test_the_installed_eventsourcing_has_every_protected_member_as_listed() -> None:
    assert changed_members() == []


def test_no_protected_member_of_eventsourcing_is_used_outside_the_list() -> None:
    used = set(protected_uses())
    assert {(module, name) for module, name in used if not listed(module, name)} == set()
    # And the list names nothing the code no longer uses.
    unused = [
        member
        for member in PROTECTED_MEMBERS
        if not any(name == member.name and within(module, member.used_in) for module, name in used)
    ]
    assert unused == []


def listed(module: str, name: str) -> bool:
    return any(
        member.name == name and within(module, member.used_in) for member in PROTECTED_MEMBERS
    )


def within(module: str, used_in: str) -> bool:
    return module == used_in or module.startswith(f"{used_in}.")


def protected_uses() -> Iterator[tuple[str, str]]:
    """(module, protected name) for each use by a class that derives from eventsourcing's."""
    alternatives = "|".join(map(re.escape, every_protected()))
    mentions = re.compile(rf"(?:\.|def )({alternatives})\b")
    for path in sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if not mentions.search(source):  # only modules that name one are imported and parsed
            continue
        module_name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        module = importlib.import_module(module_name.removesuffix(".__init__"))
        for node, qualified in classes(ast.parse(source)):
            found = resolve(module, qualified)
            if not isinstance(found, type):
                continue
            protected = eventsourcing_protected(found)
            for name in names_used(node):
                if name in protected:
                    yield module.__name__, name


def every_protected() -> set[str]:
    """The protected names of every class of every module of eventsourcing (but its tests)."""
    names: set[str] = set()
    for info in pkgutil.iter_modules(eventsourcing.__path__, "eventsourcing."):
        if info.name == "eventsourcing.tests":
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional dependency not installed: nothing of it is used
            continue
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                names.update(protected_of(value))
    return names


def classes(tree: ast.AST, prefix: str = "") -> Iterator[tuple[ast.ClassDef, str]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.ClassDef):
            qualified = f"{prefix}{node.name}"
            yield node, qualified
            yield from classes(node, f"{qualified}.")
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from classes(node, prefix)


def resolve(module: object, qualified: str) -> object:
    found = module
    for part in qualified.split("."):
        found = getattr(found, part, None)
    return found


def names_used(node: ast.ClassDef) -> Iterator[str]:
    """Methods defined and attributes touched in the class's own body (not nested classes')."""
    for statement in node.body:
        if isinstance(statement, ast.ClassDef):
            continue
        for inner in ast.walk(statement):
            if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                yield inner.name
            elif isinstance(inner, ast.Attribute):
                yield inner.attr


def eventsourcing_protected(cls: type) -> set[str]:
    """Protected names of the class's eventsourcing ancestors: methods and ``self`` attributes."""
    names: set[str] = set()
    for base in cls.__mro__:
        if base.__module__.startswith("eventsourcing"):
            names.update(protected_of(base))
    return names


@functools.cache
def protected_of(base: type) -> frozenset[str]:
    """One eventsourcing class's protected methods, and the protected names its methods' code
    uses (the attributes it sets on ``self`` among them)."""
    names = {name for name in vars(base) if is_protected(name)}
    for member in vars(base).values():
        function = getattr(member, "__func__", member)  # a class or static method's function
        code = getattr(function, "__code__", None)
        if code is not None:
            names.update(name for name in code_names(code) if is_protected(name))
    return frozenset(names)


def code_names(code: CodeType) -> Iterator[str]:
    """The attribute and global names a function's code uses, its nested functions' too."""
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from code_names(constant)


def is_protected(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")
