"""The documentation site builds with `mkdocs build --strict`, its nav and pages agree, and
what a reader sees has no Markdown or reST left unrendered."""

import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html import escape as html_escape
from html import unescape as html_unescape
from html.parser import HTMLParser
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


# --------------------------------------------------------------------------- what a reader sees


class _Text(HTMLParser):
    """Text as its reader sees it, prose apart from code."""

    def __init__(self) -> None:
        super().__init__()
        self.prose: list[str] = []
        self.code: list[str] = []
        self._skip = 0
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("code", "pre"):
            if not self._in_code:
                self.code.append("")  # one entry per block or span, however highlighted
            self._in_code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag in ("code", "pre"):
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_code:
            self.code[-1] += data
        else:
            self.prose.append(data)


def _article(html: str) -> str:
    """The page's content, without the theme's navigation and footer."""
    start = html.index("<article")
    return html[start : html.index("</article>", start)]


# What Markdown or reST left as text: each (name, pattern over the prose).
UNRENDERED_PROSE = (
    # *word* or **words** that did not become emphasis (x* and s* alone are symbols)
    ("emphasis", re.compile(r"(?<![\w*\\])\*{1,2}(?=[^\s*])[^*\n]*?(?<=[^\s*])\*{1,2}(?![\w*])")),
    ("double backticks", re.compile(r"``")),
    ("backtick", re.compile(r"`")),
    ("reST role", re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const|ref|doc):")),
    ("reST directive", re.compile(r"(?m)^\s*\.\. [\w-]+::")),
    ("reST literal-block marker", re.compile(r"\w::\s*$", re.MULTILINE)),
    ("Markdown link", re.compile(r"\]\((?:[^)\s]+)\)|\]\[[\w.-]*\]")),
)
# ...and in the HTML: emphasis opened or closed inside a word (`s<em>/√p, ... s</em>)`
# is what `s*/√p, ... s*` becomes), and a numbered list as a bullet's whole content
# (`- 1. text`: every such item shows as "a." or "1.").
UNRENDERED_HTML = (
    ("emphasis inside a word", re.compile(r"\w<(em|strong)>|</(em|strong)>\w")),
    ("numbered list in a bullet", re.compile(r"<li>\s*<ol>")),
)
# An attribute set in __init__ shown with its value: `system = system`.
ATTRIBUTE_DUMP = re.compile(r"(?m)^\s*(\w+) = \1\s*$")


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("index.html") if "search" not in p.parts)


def _page_name(site: Path, page: Path) -> str:
    return page.parent.relative_to(site).as_posix() or "home"


@needs_mkdocs
def test_no_unrendered_markup_in_the_built_site(site: Path) -> None:
    problems = []
    for page in _pages(site):
        html = _article(page.read_text(encoding="utf-8"))
        text = _Text()
        text.feed(html)
        prose = "".join(text.prose)
        name = _page_name(site, page)
        for what, pattern in UNRENDERED_PROSE:
            for m in pattern.finditer(prose):
                around = prose[max(0, m.start() - 40) : m.end() + 40].replace("\n", " ")
                problems.append(f"{name}: {what}: ...{around}...")
        for what, pattern in UNRENDERED_HTML:
            for m in pattern.finditer(html):
                problems.append(f"{name}: {what}: {html[max(0, m.start() - 60) : m.end() + 30]!r}")
        for code in text.code:
            for m in ATTRIBUTE_DUMP.finditer(code):
                problems.append(f"{name}: an attribute shown as {m[0].strip()!r}")
    assert not problems, f"{len(problems)} rendering defect(s):\n" + "\n".join(problems[:30])


def test_the_markup_checks_catch_what_they_look_for() -> None:
    # Each check against the defect it is for, and the symbols it must let through.
    def prose_problems(html: str) -> list[str]:
        text = _Text()
        text.feed(html)
        prose = "".join(text.prose)
        return [what for what, pattern in UNRENDERED_PROSE if pattern.search(prose)]

    assert prose_problems("<p>a *word* here</p>") == ["emphasis"]
    assert prose_problems("<p>**bold**</p>") == ["emphasis"]
    assert prose_problems("<p>x* and s* after 1.5·s*; 2 * 3 * 4</p>") == []
    assert prose_problems("<p>the ``x`` option</p>") == ["double backticks", "backtick"]
    assert prose_problems("<p>see :class:`Report`</p>") == ["backtick", "reST role"]
    assert prose_problems("<p>Example::</p>") == ["reST literal-block marker"]
    assert prose_problems("<p>C.3: x* (Annex C); time 10:30</p>") == []
    assert prose_problems("<p>[the page](other.md)</p>") == ["Markdown link"]
    assert prose_problems("<p><code>``x``</code> and <code>*y*</code></p>") == []
    assert UNRENDERED_HTML[0][1].search("1.25·s<em>/√p, or s</em>)")
    assert not UNRENDERED_HTML[0][1].search("a <em>word</em> here")
    assert UNRENDERED_HTML[1][1].search("<ul>\n<li>\n<ol>\n<li>ours")
    highlighted = _Text()
    highlighted.feed(
        '<pre><code><span class="n">system</span> <span class="o">=</span> '
        '<span class="n">system</span></code></pre>'
    )
    assert [ATTRIBUTE_DUMP.search(c) is not None for c in highlighted.code] == [True]
    assert not ATTRIBUTE_DUMP.search("plugin: str | None = None")


def _documented(site: Path) -> dict[str, list[str]]:
    """Each class or function the API pages document → the headings it has."""
    found: dict[str, list[str]] = {}
    for page in sorted((site / "api").rglob("index.html")):
        html = page.read_text(encoding="utf-8")
        for ident in re.findall(r'<h[1-6] id="(clen_core[\w.]*)" class="doc doc-heading"', html):
            obj = _resolve(ident)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                key = f"{obj.__module__}.{obj.__qualname__}"
                found.setdefault(key, []).append(f"{_page_name(site, page)}#{ident}")
    return found


def _resolve(path: str) -> object:
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part, None)
        return obj
    return None


@needs_mkdocs
def test_each_object_is_documented_once(site: Path) -> None:
    documented = _documented(site)
    assert "clen_core.model.proficiency.ScoreClass" in documented
    twice = {k: v for k, v in documented.items() if len(v) > 1}
    assert not twice, f"documented on more than one heading: {twice}"


@needs_mkdocs
def test_the_entities_page_opens_with_the_entities(site: Path) -> None:
    html = _site_page(site, "api/model.md").read_text(encoding="utf-8")
    names = [i.rsplit(".", 1)[-1] for i in re.findall(r'<h3 id="([\w.]+)" class="doc', html)]
    registered = [
        i.cls.__name__
        for i in clen_core.model.entities()
        if i.cls.__module__.startswith("clen_core.")
    ]
    assert names[0] == registered[0]
    assert [n for n in names if n in registered] == registered  # in the order of `clen entities`
    assert names.index(registered[-1]) < names.index("Dataset") < names.index("EntityInfo")


def test_the_api_nav_is_the_api_pages_in_order() -> None:
    from clen_core._docs import API_PAGES

    (api,) = (e["API reference"] for e in _nav() if isinstance(e, dict) and "API reference" in e)
    entries = [next(iter(e.items())) for e in api]
    assert entries == [("Overview", "api/index.md")] + [(p.title, p.path) for p in API_PAGES]
    # entities → codes → rules → I/O → proficiency → plugins
    order = [p.modules[0] for p in API_PAGES]
    milestones = [
        "clen_core.model",
        "clen_core.codes",
        "clen_core.rules",
        "clen_core.io",
        "clen_core.proficiency",
        "clen_core.plugins",
    ]
    assert [order.index(m) for m in milestones] == sorted(order.index(m) for m in milestones)


def _domain_anchor(section: int) -> str:
    text = (DOCS / "domain.md").read_text(encoding="utf-8")
    (title,) = re.findall(rf"(?m)^## ({section}\. .+)$", text)
    slug = re.sub(r"[^\w\s-]", "", title.lower()).strip()
    return re.sub(r"\s", "-", slug)


@needs_mkdocs
def test_domain_citations_link_to_the_domain_page(site: Path) -> None:
    api = _site_page(site, "api/proficiency.md").read_text(encoding="utf-8")
    cited = re.findall(r"domain\.md(?:</code>)? §(\d+)", api)
    linked = re.findall(r'<a [^>]*href="([^"]*)"[^>]*>domain\.md §(\d+)</a>', api)
    assert cited, "the proficiency modules cite domain.md §6"
    assert len(linked) == len(cited), "a citation of domain.md is not a link"
    for href, section in linked:
        assert href == f"../../domain/#{_domain_anchor(int(section))}"
    domain = _site_page(site, "domain.md").read_text(encoding="utf-8")
    assert f'id="{_domain_anchor(6)}"' in domain


SHARED_DOMAIN = ROOT.parent / "shared" / "domain.md"


def test_the_domain_page_is_the_projects_notes() -> None:
    if not SHARED_DOMAIN.is_file():
        pytest.skip("shared/ is not beside the repository")
    notes = SHARED_DOMAIN.read_text(encoding="utf-8")
    page = (DOCS / "domain.md").read_text(encoding="utf-8")
    heading, _, body = notes.partition("\n")
    assert page.startswith(heading + "\n")
    assert page.endswith(body), "docs/domain.md differs from shared/domain.md: copy it again"


@needs_mkdocs
def test_the_licence_and_changelog_pages_are_the_files(site: Path) -> None:
    page = _article(_site_page(site, "license.md").read_text(encoding="utf-8"))
    (block,) = re.findall(r"<pre[^>]*>(.*?)</pre>", page, re.DOTALL)
    shown = html_unescape(re.sub(r"<[^>]+>", "", block))
    assert shown.strip() == (ROOT / "LICENSE").read_text(encoding="utf-8").strip()
    changelog = _site_page(site, "changelog.md").read_text(encoding="utf-8")
    for heading in re.findall(r"(?m)^## (.+)$", (ROOT / "CHANGELOG.md").read_text("utf-8")):
        assert f">{html_escape(heading, quote=False)}<" in changelog, heading


def test_the_licence_is_the_eupl_1_2_in_full() -> None:
    text = " ".join((ROOT / "LICENSE").read_text(encoding="utf-8").split())
    assert text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2 EUPL © the European Union 2007")
    for n, title in enumerate(ARTICLES, start=1):
        assert f" {n}. {title} " in text, f"article {n} ({title}) missing"
    assert "Appendix ‘Compatible Licences’ according to Article 5 EUPL are:" in text
    assert text.endswith("require the production of a new EUPL version.")


ARTICLES = (
    "Definitions",
    "Scope of the rights granted by the Licence",
    "Communication of the Source Code",
    "Limitations on copyright",
    "Obligations of the Licensee",
    "Chain of Authorship",
    "Disclaimer of Warranty",
    "Disclaimer of Liability",
    "Additional agreements",
    "Acceptance of the Licence",
    "Information to the public",
    "Termination of the Licence",
    "Miscellaneous",
    "Jurisdiction",
    "Applicable Law",
)


PUBLISHED = [ROOT / "README.md", ROOT / "pyproject.toml", MKDOCS_YML, *sorted(DOCS.rglob("*.md"))]


def test_no_placeholder_url_is_published() -> None:
    found = [p.name for p in PUBLISHED if "example.invalid" in p.read_text(encoding="utf-8")]
    assert not found, f"a placeholder URL in {found}"


def test_the_readme_links_work_on_a_package_index() -> None:
    # PyPI shows the README alone: a relative link (docs/cli.md) leads nowhere there.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme) + re.findall(r"(?m)^\[[^\]]+\]: (\S+)", readme)
    relative = [t for t in targets if not re.match(r"https?://|#|mailto:", t)]
    assert not relative, f"relative links in README.md: {relative}"


# --------------------------------------------------------------------------- in a browser


def _chromium() -> str | None:
    return os.environ.get("CLEN_CHROMIUM") or next(
        (found for n in ("chromium", "chromium-browser") if (found := shutil.which(n))), None
    )


@needs_mkdocs
def test_tables_keep_identifiers_whole_in_a_browser(site: Path) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium: apt-get install chromium (or set CLEN_CHROMIUM)")
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed: pip install playwright (drives the system "
        "Chromium; never run `playwright install`)",
    )
    artifacts = Path(os.environ.get("CLEN_TEST_ARTIFACTS") or site.parent / "artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(_site_page(site, "data-model.md").as_uri() + "#pt_result--ptresult")
            # An identifier split over two lines has two boxes.
            broken = page.evaluate(
                "[...document.querySelectorAll('article table code')]"
                ".filter(c => /^\\w+$/.test(c.textContent) && c.getClientRects().length > 1)"
                ".map(c => c.textContent)"
            )
            page.screenshot(path=str(artifacts / "docs-data-model.png"))
            cells = page.locator("article table code").count()
        finally:
            browser.close()
    assert cells > 500
    assert broken == [], f"identifiers broken across lines: {sorted(set(broken))[:20]}"


def test_each_public_name_has_one_home_in_the_api_reference() -> None:
    from clen_core._docs import api_homes

    homes = api_homes()
    placed: dict[object, list[str]] = {}
    for module, names in homes.items():
        for name in names:
            obj = getattr(importlib.import_module(module), name)
            if inspect.isclass(obj) or inspect.isroutine(obj):  # a constant may be interned
                placed.setdefault(obj, []).append(f"{module}.{name}")
    assert [p for p in placed.values() if len(p) > 1] == []
    # where each is defined, not where it is re-exported
    assert "ScoreClass" in homes["clen_core.model"]
    assert "ScoreClass" not in homes["clen_core.proficiency.statistics"]
    assert "CodeError" in homes["clen_core.errors"]
    assert "CodeError" not in homes["clen_core"] + homes["clen_core.codes"]
    assert "Decision" in homes["clen_core.compliance"]
    assert "PartitionedDataset" in homes["clen_core.io.partitioned"]
    assert "read" in homes["clen_core.io"]
    assert "hookimpl" in homes["clen_core.hookspecs"]
    # every public name of the package is documented somewhere
    documented = {name for names in homes.values() for name in names}
    assert [n for n in clen_core.__all__ if n not in documented] == []
