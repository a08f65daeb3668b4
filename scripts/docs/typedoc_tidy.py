#!/usr/bin/env python3
"""Tidy TypeDoc's Markdown pages for the site (make docs runs it on
build/docs/generated/api/typescript after TypeDoc).

With `useCodeBlocks`, each signature is shown as a TypeScript block, so a
"Returns" section holding only the type again, and the "Get Signature" /
"Set Signature" headings of accessors, repeat what the block says: they go.
A "Returns" section with a description stays.

    python3 scripts/docs/typedoc_tidy.py DIR
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# "###### Returns", a blank line, one line that is only a type, then a blank line or the end.
BARE_RETURNS = re.compile(r"^#{4,6} Returns\n\n(?:`[^`\n]+`|\[`[^`\n]+`\]\([^)\n]+\)|[^\n]*?`[^\n]*)\n(?=\n|\Z)", re.M)
ACCESSOR_HEADING = re.compile(r"^#{4,6} [GS]et Signature\n\n", re.M)


def tidy(text: str) -> str:
    def drop_if_type_only(m: "re.Match[str]") -> str:
        body = m.group(0).split("\n", 2)[2].strip()
        # Only a type: code spans, links to types, and the punctuation between them.
        if re.fullmatch(r"(?:\\?[<>|\[\](),.&]|\s|`[^`]*`|\[`[^`]*`\]\([^)]*\)|\w+)+", body):
            return ""
        return m.group(0)

    text = BARE_RETURNS.sub(drop_if_type_only, text)
    text = ACCESSOR_HEADING.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text)


def main(argv: list) -> int:
    if len(argv) != 2:
        print("usage: typedoc_tidy.py DIR", file=sys.stderr)
        return 2
    pages = sorted(Path(argv[1]).rglob("*.md"))
    if not pages:
        raise SystemExit(f"typedoc_tidy: no Markdown pages in {argv[1]}")
    for page in pages:
        page.write_text(tidy(page.read_text()))
    print(f"typedoc_tidy: {len(pages)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
