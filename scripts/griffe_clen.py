"""Griffe extension for the API reference pages (loaded by ``mkdocs.yml``).

What static analysis of the source cannot see on its own, or shows as it should not:

- An ``@entity`` class gets its full docstring when it is declared: the decorator
  appends a Google-style ``Attributes:`` section listing every field with its type
  and description. The source holds only the first line, so the docstring of each
  registered entity class is taken from the imported class.
- The docstrings use two reST constructs that Markdown lacks. Sphinx roles
  (``:class:`Report```, ``:func:`~clen_core.io.read```) become a link to the
  object's entry when the site documents it, and plain code otherwise (an optional
  cross-reference: never a broken link, never a warning). A paragraph ending in
  ``::`` ends in ``:``: the literal block after it, indented after a blank line,
  is already a Markdown code block, and so is the one after ``.. code-block:: python``
  (the directive line goes).
- An attribute set in ``__init__`` (``self.system = system``) has no value worth showing:
  griffe's ``system = system`` becomes ``system: str``, with the type of the parameter.
- ``domain.md §6`` cites a section of the domain notes, shipped as the Domain page
  (``docs/domain.md``): the citation becomes a link to that section.
"""

from __future__ import annotations

import html
import inspect
import re
from pathlib import Path
from typing import Any

import griffe
from pymdownx.slugs import slugify

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
# ``.. code-block:: python`` before an indented block: the block alone is Markdown's.
CODE_BLOCK = re.compile(r"(?m)^\.\. code-block::[^\n]*\n\n?")


DOMAIN_PAGE = Path(__file__).parents[1] / "docs" / "domain.md"
# ``domain.md`` §6, or domain.md §6: how the docstrings cite a section of the notes.
DOMAIN_CITATION = re.compile(r"(?:``)?domain\.md(?:``)? §(?P<section>\d+)")
# The slugs mkdocs.yml gives headings (the same function, so the anchors agree).
_SLUG = slugify(case="lower")


def _domain_anchors() -> dict[str, str]:
    """Section number → the anchor of its heading on the Domain page."""
    text = DOMAIN_PAGE.read_text(encoding="utf-8")
    return {
        m["n"]: _SLUG(m["title"], "-")
        for m in re.finditer(r"(?m)^## (?P<title>(?P<n>\d+)\. .+)$", text)
    }


def _cite_domain(text: str, anchors: dict[str, str]) -> str:
    def link(m: re.Match[str]) -> str:
        anchor = anchors.get(m["section"])
        if anchor is None:
            raise ValueError(f"{m[0]!r} cites a section that docs/domain.md does not have")
        # Not optional: a section that moves fails `mkdocs build --strict`.
        return f'<autoref identifier="{anchor}">domain.md §{m["section"]}</autoref>'

    return DOMAIN_CITATION.sub(link, text)


def _drop_init_values(obj: griffe.Object) -> None:
    """``self.system = system`` shows as ``system: str`` (the parameter's type), not
    ``system = system``."""
    if not isinstance(obj, griffe.Attribute) or obj.labels != {"instance-attribute"}:
        return
    obj.value = None
    init = obj.parent.members.get("__init__") if obj.parent is not None else None
    if obj.annotation is None and isinstance(init, griffe.Function):
        param = next((p for p in init.parameters if p.name == obj.name), None)
        if param is not None and param.annotation is not None:
            obj.annotation = param.annotation


def _markdown(obj: griffe.Object, anchors: dict[str, str]) -> None:
    _drop_init_values(obj)
    docstring = obj.docstring
    if docstring is None:
        return
    if "domain.md" in docstring.value:
        docstring.value = _cite_domain(docstring.value, anchors)
    if "::" not in docstring.value and ":`" not in docstring.value:
        return
    docstring.value = CODE_BLOCK.sub("", docstring.value)

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


def _walk(obj: griffe.Object, anchors: dict[str, str]) -> None:
    _markdown(obj, anchors)
    for member in obj.members.values():
        if isinstance(member, griffe.Object):  # not an alias: documented where it lives
            _walk(member, anchors)


class ClenDocs(griffe.Extension):
    """Entity docstrings, cross-references, citations and attribute values (see above)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.path != "clen_core":
            return
        _entity_docstrings(pkg)
        _walk(pkg, _domain_anchors())
