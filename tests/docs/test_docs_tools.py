"""The documentation site's own tools fail when they should: the link checker
on a broken link or anchor, the C reference on an undocumented function, the
block runner on a failing block (naming its file and line), a wrong output, or
a marker that is not above a fence. `make test-docs` runs these first.

    python -m pytest -q -p no:asyncio tests/docs/test_docs_tools.py
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(Path(path).stem, REPO / path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check_links = load("scripts/docs/check_links.py")
c_reference = load("scripts/docs/c_reference.py")
runner = load("tests/docs/run_quickstarts.py")


# -- the link checker -------------------------------------------------------------


def site(tmp_path: Path, pages: dict) -> Path:
    for name, html in pages.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(html)
    return tmp_path


def test_links_that_resolve_pass(tmp_path: Path) -> None:
    root = site(tmp_path, {
        "index.html": '<a href="guide/">g</a> <a href="guide/index.html#rules">r</a> <a href="#top">t</a>'
                      '<img src="img/a.png"> <a href="https://example.com/x">ext</a>',
        "guide/index.html": '<h2 id="rules">Rules</h2><a href="../index.html">home</a>',
        "img/a.png": "",
        "src/lib.rs.html": '<a href=#1 id=1>1</a><a href="#impl-From%3CT%3E" id="impl-From%3CT%3E">x</a>',
        "api.html": '<a href="src/lib.rs.html#1-3">src</a> <a href="src/lib.rs.html#impl-From%3CT%3E">impl</a>',
    })
    assert check_links.main(["check_links", str(root)]) == 0


@pytest.mark.parametrize("href", ["missing.html", "guide/index.html#no-such-id", "#nowhere", "../outside.html"])
def test_a_broken_link_fails(tmp_path: Path, href: str, capsys: pytest.CaptureFixture) -> None:
    root = site(tmp_path / "site", {
        "index.html": f'<a href="{href}">x</a>',
        "guide/index.html": '<h2 id="rules">Rules</h2>',
    })
    (tmp_path / "outside.html").write_text("")
    assert check_links.main(["check_links", str(root)]) == 1
    assert "index.html:1: " + href in capsys.readouterr().err


# -- the C reference ------------------------------------------------------------------

HEADER = """/*
 * A header.
 */
/**
 * The outcome.
 */
typedef enum {
  /**
   * Fine.
   */
  X_OK = 0,
  /**
   * Not fine.
   */
  X_ERR = 1,
} x_status;

/**
 * Do it; see `oatk_undo`.
 */
x_status oatk_do(const char *what);

/**
 * Undo it.
 */
void oatk_undo(void);
"""


def test_the_c_reference_renders_every_declaration_with_links() -> None:
    intro, decls = c_reference.parse(HEADER)
    assert intro == "A header."
    assert [(d.kind, d.name) for d in decls] == [("enum", "x_status"), ("function", "oatk_do"), ("function", "oatk_undo")]
    assert [m.name for m in decls[0].members] == ["X_OK", "X_ERR"]
    c_reference.check_everything_documented(HEADER, decls)
    page = c_reference.render(intro, decls, "1.0")
    assert "[`oatk_undo`](#oatk_undo)" in page and "### `oatk_do` {#oatk_do}" in page


def test_an_undocumented_function_fails_the_c_reference() -> None:
    header = HEADER + "\nvoid oatk_secret(void);\n"
    _, decls = c_reference.parse(header)
    with pytest.raises(SystemExit, match="oatk_secret"):
        c_reference.check_everything_documented(header, decls)


def test_the_real_header_is_fully_documented() -> None:
    header = (REPO / "include/oatk.h").read_text()
    _, decls = c_reference.parse(header)
    c_reference.check_everything_documented(header, decls)
    assert sum(d.kind == "function" for d in decls) >= 40


# -- the block runner -------------------------------------------------------------------


def run_page(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    """The runner on a site of one page, page.md."""
    (tmp_path / "page.md").write_text(text)
    return subprocess.run([sys.executable, str(REPO / "tests/docs/run_quickstarts.py"), "--site", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)


def test_a_failing_block_fails_with_its_file_line_and_output(tmp_path: Path) -> None:
    r = run_page(tmp_path, "# t\n\n<!-- run: sh -->\n```sh\necho before\necho oops >&2\nexit 3\n```\n")
    assert r.returncode == 1
    assert f"{tmp_path}/page.md:4: sh block failed: sh: exit status 3" in r.stderr
    assert "oops" in r.stderr
    assert "0 passed, 1 failed" in r.stdout


def test_an_output_block_is_compared(tmp_path: Path) -> None:
    page = ("# t\n\n<!-- run: sh -->\n```sh\necho hello; echo 'token eyJabc'\n```\n\n"
            "<!-- output -->\n```text title=\"Output\"\nhello\ntoken eyJ...\n```\n")
    assert run_page(tmp_path, page).returncode == 0
    r = run_page(tmp_path, page.replace("hello\ntoken", "goodbye\ntoken"))
    assert r.returncode == 1 and "the output differs" in r.stderr


def test_a_marker_not_above_a_fence_is_refused(tmp_path: Path) -> None:
    r = run_page(tmp_path, "# t\n\n<!-- run: sh -->\n\n```sh\ntrue\n```\n")
    assert r.returncode != 0 and "not right above a fence" in (r.stderr + r.stdout)


def test_output_matching_allows_an_ellipsis() -> None:
    assert runner.matches("a\n...\nz", "a\nb\nc\nz\n")
    assert not runner.matches("a\nz", "a\nb\n")
