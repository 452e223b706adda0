"""The documentation site builds with `mkdocs build --strict`, and its nav and pages agree."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

import clen_core

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"

SITE_PACKAGES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _missing(name: str) -> bool:
    try:
        return find_spec(name) is None
    except ModuleNotFoundError:  # its parent package is missing
        return True


MISSING = [name for name in SITE_PACKAGES if _missing(name)]
needs_mkdocs = pytest.mark.skipif(
    bool(MISSING),
    reason=f"the docs toolchain is not installed ({', '.join(MISSING)}): "
    "pip install mkdocs mkdocs-material 'mkdocstrings[python]'",
)


def _nav() -> list[Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML (installed with mkdocs) reads mkdocs.yml")

    class Loader(yaml.SafeLoader):
        """Safe loading; the `!!python/...` tags (the toc slugify) become None."""

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    config = yaml.load(MKDOCS_YML.read_text(encoding="utf-8"), Loader=Loader)
    return config["nav"]


def _nav_pages(entries: list[Any]) -> Iterator[str]:
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from _nav_pages(value)
        else:
            yield value


def _site_page(site: Path, page: str) -> Path:
    """Where `mkdocs build` puts a page (directory URLs: `a/b.md` → `a/b/index.html`)."""
    stem = page.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return site / f"{stem}.html"
    return site / stem / "index.html"


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    nav = list(_nav_pages(_nav()))
    assert len(nav) == len(set(nav)), f"a page is twice in the nav: {sorted(nav)}"
    missing = [p for p in nav if not (DOCS / p).is_file()]
    assert not missing, f"mkdocs.yml's nav names pages that do not exist: {missing}"
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    orphans = sorted(pages - set(nav))
    assert not orphans, f"pages under docs/ missing from mkdocs.yml's nav: {orphans}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return out


@needs_mkdocs
def test_site_has_a_page_per_nav_entry(site: Path) -> None:
    for page in _nav_pages(_nav()):
        assert _site_page(site, page).is_file(), f"no built page for {page}"


def _api_html(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((site / "api").rglob("*.html")))


@needs_mkdocs
def test_api_reference_documents_the_public_api(site: Path) -> None:
    model = _site_page(site, "api/model.md").read_text(encoding="utf-8")
    assert 'id="clen_core.model.Activity"' in model
    # the field table the @entity decorator adds to the docstring at import time
    assert "activity_id" in model
    assert "Identifier of the activity." in model
    rules = _site_page(site, "api/rules.md").read_text(encoding="utf-8")
    assert 'id="clen_core.rules.validate"' in rules
    api = _api_html(site)
    ids = set(re.findall(r'id="(clen_core(?:\.\w+)*)"', api))
    undocumented = [
        name
        for name in clen_core.__all__
        if not name.startswith("_") and not any(i.rsplit(".", 1)[-1] == name for i in ids)
    ]
    assert not undocumented, f"in clen_core.__all__ but on no API page: {undocumented}"


@needs_mkdocs
def test_api_reference_has_no_raw_rest_roles(site: Path) -> None:
    roles = re.findall(r":(?:class|func|mod|data|attr|meth|exc):`?\w*", _api_html(site))
    leftovers = sorted(set(roles))
    assert not leftovers, f"Sphinx roles left as text in the API pages: {leftovers}"


@needs_mkdocs
def test_cli_page_has_every_command(site: Path) -> None:
    import typer

    from clen_core.cli import app

    cli = _site_page(site, "cli.md").read_text(encoding="utf-8")
    root: Any = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="clen")
    for name in root.list_commands(ctx):
        assert f'id="clen-{name}"' in cli, f"no section for `clen {name}` on the CLI page"
