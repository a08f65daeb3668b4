#!/usr/bin/env python3
"""Check the links of the built documentation site.

    python3 scripts/docs/check_links.py dist/docs

Every internal `href` and `src` of every HTML page (a, link, script, img,
iframe, source; rustdoc's pages included) must name a file of the site, and
a `#fragment` must name an `id` (or an `<a name>`) of the page it points to
(`#top`, which browsers always know, included: Material's "back to top").
External links (a scheme, `//host`, `mailto:`) are not followed: the site is
checked offline. Exit 1 with each broken link, its page and the target.
"""

from __future__ import annotations

import os
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Set, Tuple
from urllib.parse import unquote, urlsplit

LINK_ATTRS = {"a": "href", "link": "href", "script": "src", "img": "src", "iframe": "src", "source": "src"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Set[str] = set()
        self.links: List[Tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"] or "")
        attr = LINK_ATTRS.get(tag)
        if attr and values.get(attr) is not None:
            self.links.append((values[attr] or "", self.getpos()[0]))


def external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme) or url.startswith("//")


def fragment_ids(fragment: str) -> List[str]:
    """The ids a fragment may name: as written (rustdoc's ids keep the
    percent-encoding: `impl-From%3CT%3E-for-T`), decoded, and for a line
    range of rustdoc's source pages (`#12-23`, highlighted by its script)
    the first line's id."""
    candidates = [fragment, unquote(fragment)]
    first, dash, last = fragment.partition("-")
    if dash and first.isdigit() and last.isdigit():
        candidates.append(first)
    return candidates


def resolve(site: Path, page: Path, path: str) -> Path:
    if path.startswith("/"):
        target = site / unquote(path.lstrip("/"))
    else:
        target = page.parent / unquote(path)
    target = Path(os.path.normpath(target))
    if target.is_dir() or path.endswith("/"):
        target = target / "index.html"
    return target


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    site = Path(argv[1]).resolve()
    pages: Dict[Path, Page] = {}
    for path in sorted(site.rglob("*.html")):
        parser = Page()
        parser.feed(path.read_text(errors="replace"))
        pages[path] = parser
    if not pages:
        print(f"check_links: no HTML in {site}", file=sys.stderr)
        return 1

    broken: List[str] = []
    checked = anchors = 0
    for path, page in pages.items():
        for url, line in page.links:
            if not url or external(url) or url.startswith("javascript:"):
                continue
            parts = urlsplit(url)
            target = resolve(site, path, parts.path) if parts.path else path
            checked += 1
            where = f"{path.relative_to(site)}:{line}"
            if not target.is_file() or site not in target.parents:
                broken.append(f"{where}: {url} -> no such file {target.relative_to(site) if site in target.parents else target}")
                continue
            if parts.fragment and target.suffix == ".html":
                anchors += 1
                ids = pages[target].ids if target in pages else set()
                if parts.fragment != "top" and not any(c in ids for c in fragment_ids(parts.fragment)):
                    broken.append(f"{where}: {url} -> no id \"{unquote(parts.fragment)}\" in {target.relative_to(site)}")

    if broken:
        print(f"check_links: {len(broken)} broken links in {site}:", file=sys.stderr)
        for b in broken:
            print("  " + b, file=sys.stderr)
        return 1
    print(f"check_links: {len(pages)} pages, {checked} internal links ({anchors} with an anchor), none broken")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
