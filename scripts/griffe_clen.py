"""Griffe extension for the API reference pages (loaded by ``mkdocs.yml``).

Two things static analysis of the source cannot see on its own:

- An ``@entity`` class gets its full docstring when it is declared: the decorator
  appends a Google-style ``Attributes:`` section listing every field with its type
  and description. The source holds only the first line, so the docstring of each
  registered entity class is taken from the imported class.
- The docstrings use two reST constructs that Markdown lacks. Sphinx roles
  (``:class:`Report```, ``:func:`~clen_core.io.read```) become a link to the
  object's entry when the site documents it, and plain code otherwise (an optional
  cross-reference: never a broken link, never a warning). A paragraph ending in
  ``::`` ends in ``:``: the literal block after it, indented after a blank line,
  is already a Markdown code block.
"""

from __future__ import annotations

import html
import inspect
import re
from typing import Any

import griffe

# A role, and the reST escaped space that glues a suffix to it (``:class:`Reject`\ s``).
ROLE = re.compile(
    r":(?:py:)?(?:mod|class|func|meth|attr|data|exc|obj|const|type):"
    r"`(?P<tilde>~?)(?P<target>[^`]+)`(?:\\ )?"
)


def _entity_docstrings(pkg: griffe.Module) -> None:
    from clen_core.model.entity import entities

    prefix = pkg.path + "."
    for info in entities():
        path = f"{info.cls.__module__}.{info.cls.__qualname__}"
        if not path.startswith(prefix) or not info.cls.__doc__:
            continue  # an entity a plugin added: not part of these pages
        try:
            cls = pkg[path.removeprefix(prefix)]
        except KeyError:
            continue
        doc = inspect.cleandoc(info.cls.__doc__)
        if cls.docstring is None:
            cls.docstring = griffe.Docstring(doc, parent=cls)
        else:
            cls.docstring.value = doc


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """The full path of ``target`` as named in ``obj``'s docstring, or None."""
    if target.startswith(obj.package.path + "."):
        return target
    head, _, rest = target.lstrip(".").partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            path = scope.resolve(head)
        except griffe.NameResolutionError:
            scope = scope.parent
            continue
        return f"{path}.{rest}" if rest else path
    return None


# ``text::`` ends a paragraph that introduces a literal block (``text ::`` drops the colons).
LITERAL_SPACED = re.compile(r"(?m)[ \t]+::$")
LITERAL = re.compile(r"(?m)::$")


def _markdown(obj: griffe.Object) -> None:
    docstring = obj.docstring
    if docstring is None or ("::" not in docstring.value and ":`" not in docstring.value):
        return

    def link(m: re.Match[str]) -> str:
        target = m["target"].strip()
        title = target.rsplit(".", 1)[-1] if m["tilde"] else target.lstrip(".")
        path = _resolve(obj, target)
        code = f"<code>{html.escape(title)}</code>"
        if path is None:
            return code
        return f'<autoref optional identifier="{html.escape(path)}">{code}</autoref>'

    text = LITERAL.sub(":", LITERAL_SPACED.sub("", docstring.value))
    docstring.value = ROLE.sub(link, text)


def _walk(obj: griffe.Object) -> None:
    _markdown(obj)
    for member in obj.members.values():
        if isinstance(member, griffe.Object):  # not an alias: documented where it lives
            _walk(member)


class ClenDocs(griffe.Extension):
    """Entity docstrings from the imported classes; Sphinx roles as cross-references."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.path != "clen_core":
            return
        _entity_docstrings(pkg)
        _walk(pkg)
