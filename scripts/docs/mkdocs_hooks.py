"""mkdocs hooks for the oatk site (docs/mkdocs.yml): the generated parts.

The Markdown sources live in docs/site/; everything made from the code at
build time is added here as virtual files, so nothing generated lands in the
source tree:

- the pages under build/docs/generated/ (`make docs` writes them: the C
  reference from include/oatk.h, the TypeScript reference from TypeDoc);
- rustdoc's HTML for oatk-core (`cargo doc`, $CARGO_TARGET_DIR/doc) under
  api/rust/, as static files, so links to it are checked like any other;
- the walkthrough's screenshots (docs/screenshots/) under assets/screenshots/.

The Python reference needs nothing here: mkdocstrings reads
bindings-python/python/oatk and its stubs itself.

OATK_DOCS_GENERATED and CARGO_TARGET_DIR override the two build folders.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Iterator, List, Set

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Link, Navigation, Section

log = logging.getLogger("mkdocs.plugins.oatk")

REPO = Path(__file__).resolve().parents[2]
RUSTDOC_CRATE = "oatk"  # oatk-core's library name
RUSTDOC_PREFIX = "api/rust"
RUSTDOC_NAV_TITLE = "Rust (rustdoc)"
API_SECTION = "API reference"
RUSTDOC_INDEX = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>oatk-core: Rust API</title>
<meta http-equiv="refresh" content="0; url={RUSTDOC_CRATE}/index.html"></head>
<body><p><a href="{RUSTDOC_CRATE}/index.html">oatk-core's Rust API</a></p></body></html>
"""


def generated_dir() -> Path:
    return Path(os.environ.get("OATK_DOCS_GENERATED", REPO / "build/docs/generated"))


def rustdoc_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "doc"


def walk(root: Path) -> Iterator[Path]:
    for dirpath, _dirs, names in os.walk(root):
        for name in sorted(names):
            yield Path(dirpath) / name


def rustdoc_crates(doc: Path) -> Set[str]:
    """The crates documented in this rustdoc output (crates.js), by folder name."""
    crates_js = doc / "crates.js"
    if not crates_js.exists():
        return set()
    return set(re.findall(r'"([A-Za-z0-9_]+)"', crates_js.read_text()))


def rustdoc_files(doc: Path) -> List[Path]:
    """oatk-core's pages and rustdoc's shared files, plus any other crate's
    pages they link to (a dependency documented in the same folder by
    someone's `cargo doc`), so every link of the copy resolves."""
    crates = rustdoc_crates(doc)
    wanted = {RUSTDOC_CRATE}
    shared = [p for p in doc.iterdir() if p.name not in crates and p.name != "src"]
    todo = [RUSTDOC_CRATE]
    while todo:
        crate = todo.pop()
        for page in list(walk(doc / crate)) + list(walk(doc / "src" / crate)):
            if page.suffix != ".html":
                continue
            for href in re.findall(r'href="([^"#?:]+)', page.read_text(errors="replace")):
                target = os.path.normpath(os.path.join(os.path.dirname(page), href))
                rel = os.path.relpath(target, doc).split(os.sep)
                first = rel[1] if rel[0] == "src" and len(rel) > 1 else rel[0]
                if first in crates and first not in wanted:
                    wanted.add(first)
                    todo.append(first)
    files: List[Path] = []
    for entry in shared:
        files.extend(walk(entry) if entry.is_dir() else [entry])
    for crate in sorted(wanted):
        files.extend(walk(doc / crate))
        if (doc / "src" / crate).is_dir():
            files.extend(walk(doc / "src" / crate))
    return files


def on_files(files: Files, config) -> Files:  # noqa: ANN001 (mkdocs' MkDocsConfig)
    generated = generated_dir()
    if not generated.is_dir() or not any(generated.rglob("*.md")):
        raise PluginError(f"{generated} holds no generated pages: build the site with `make docs`")
    for path in walk(generated):
        uri = path.relative_to(generated).as_posix()
        if files.get_file_from_path(uri):
            raise PluginError(f"generated page {uri} would replace docs/site/{uri}")
        files.append(File.generated(config, uri, abs_src_path=str(path)))

    doc = rustdoc_dir()
    if not (doc / RUSTDOC_CRATE / "index.html").exists():
        raise PluginError(f"no rustdoc in {doc}: build the site with `make docs` (it runs cargo doc)")
    copied = rustdoc_files(doc)
    for path in copied:
        uri = f"{RUSTDOC_PREFIX}/{path.relative_to(doc).as_posix()}"
        if path.suffix == ".md":
            # A font's license in static.files: shipped as text, not rendered as a page.
            uri += ".txt"
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    # rustdoc's settings and help pages link to the root's index.html, which
    # `cargo doc` only writes with an unstable flag: send it to the crate.
    files.append(File.generated(config, f"{RUSTDOC_PREFIX}/index.html", content=RUSTDOC_INDEX))

    shots = REPO / "docs/screenshots"
    for path in sorted(shots.glob("*.png")):
        files.append(File.generated(config, f"assets/screenshots/{path.name}", abs_src_path=str(path)))
    log.info("oatk: %d generated pages, %d rustdoc files, screenshots", sum(1 for _ in walk(generated)), len(copied))
    return files


def on_nav(nav: Navigation, config, files: Files) -> Navigation:  # noqa: ANN001
    """rustdoc is HTML of its own, not a page mkdocs renders: it is linked
    from the API section of the navigation rather than listed in it."""
    for item in nav.items:
        if isinstance(item, Section) and item.title == API_SECTION:
            link = Link(RUSTDOC_NAV_TITLE, f"{RUSTDOC_PREFIX}/{RUSTDOC_CRATE}/index.html")
            link.parent = item
            item.children.append(link)
            return nav
    raise PluginError(f"no '{API_SECTION}' section in the nav of docs/mkdocs.yml")
