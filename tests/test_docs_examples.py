"""The Python blocks of the README and the docs run, and their `# → value` lines hold."""

import re
from pathlib import Path

import pyarrow
import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
CLAIM = re.compile(r"^(?P<expr>.+?)\s+# → (?P<expected>.+)$")


def _blocks() -> list[tuple[str, int, str]]:
    out = []
    for page in PAGES:
        for i, m in enumerate(BLOCK.finditer(page.read_text(encoding="utf-8"))):
            out.append((page.name, i + 1, m.group(1)))
    return out


BLOCKS = _blocks()


def _is_expression(text: str) -> bool:
    try:
        compile(text, "<claim>", "eval")
    except SyntaxError:
        return False
    return True


def test_docs_have_examples() -> None:
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize(("page", "n", "code"), BLOCKS, ids=[f"{p}#{n}" for p, n, _ in BLOCKS])
def test_example_runs_and_its_claims_hold(page: str, n: int, code: str) -> None:
    namespace: dict[str, object] = {"pyarrow": pyarrow}
    lines = code.splitlines()
    chunk: list[str] = []
    for line in lines:
        claim = CLAIM.match(line)
        if claim is None:
            chunk.append(line)
            continue
        expr = claim["expr"]
        # A claim may close an expression that starts on earlier lines: take them along.
        while not _is_expression(expr) and chunk:
            expr = chunk.pop() + "\n" + expr
        exec("\n".join(chunk), namespace)  # the statements before the claim
        chunk = []
        got = eval(expr, namespace)
        expected = eval(claim["expected"], namespace)
        assert got == expected, f"{page} block {n}: {expr} gave {got!r}"
    exec("\n".join(chunk), namespace)
