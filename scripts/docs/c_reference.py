#!/usr/bin/env python3
"""The C API reference page of the documentation site, made from include/oatk.h.

    python3 scripts/docs/c_reference.py include/oatk.h OUT.md

cbindgen turns each `///` comment of ffi/src into a `/** ... */` comment
above its declaration, so the header is the reference: this script reads
every documented declaration (the status enum and its values, the opaque
handles, the structs and their fields, every function) and writes one
Markdown page, grouped the way ffi/README.md's API table groups them. A name
of the header quoted in a comment (`oatk_toolkit_free`) becomes a link to
its entry. `make docs` runs it at build time; the page is never committed.

It fails (exit 1, naming the declaration) when a function or type of the
header has no doc comment, or when a declaration cannot be read: the page
must say something about everything the header declares.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

COMMENT = re.compile(r"/\*\*(.*?)\*/", re.S)
NAME = re.compile(r"\boatk_[a-z_]+\b|\bOATK_[A-Z_]+\b")


@dataclass
class Member:
    """An enum value or a struct field."""

    name: str
    decl: str  # `OATK_OK = 0` / `const char *host`
    doc: str


@dataclass
class Decl:
    kind: str  # "enum", "struct", "opaque", "function"
    name: str
    code: str  # the declaration as the header writes it (bodies without comments)
    doc: str
    line: int
    members: List[Member] = field(default_factory=list)


def doc_text(raw: str) -> str:
    """The text of a `/** ... */` comment: the leading ` * ` of each line removed."""
    lines = [re.sub(r"^\s*\*? ?", "", line, count=1) for line in raw.strip("\n").splitlines()]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    # Markdown wants a blank line before a list that follows a paragraph.
    out: List[str] = []
    for line in (line.rstrip() for line in lines):
        item = line.lstrip().startswith("- ")
        if item and out and out[-1].strip() and not out[-1].lstrip().startswith("- ") and not out[-1].startswith(" "):
            out.append("")
        out.append(line[1:] if item and line.startswith(" - ") else line)
    return "\n".join(out)


def statement(text: str, start: int) -> Tuple[str, int]:
    """The declaration starting at `start`, up to its `;` at brace depth 0."""
    depth = 0
    i = start
    while i < len(text):
        if text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == ";" and depth == 0:
            return text[start : i + 1], i + 1
        i += 1
    raise ValueError(f"unterminated declaration at offset {start}")


def members(body: str, kind: str) -> List[Member]:
    """The documented values of an enum body, or fields of a struct body."""
    found: List[Member] = []
    comments = list(COMMENT.finditer(body))
    for i, m in enumerate(comments):
        # What follows the comment, up to the next comment: `OATK_OK = 0,` / `const char *host;`
        end = comments[i + 1].start() if i + 1 < len(comments) else len(body)
        decl = " ".join(body[m.end() : end].split()).rstrip(",;").strip()
        name_match = re.match(r"([A-Z][A-Z_0-9]*)\b", decl) if kind == "enum" else re.search(r"(\w+)$", decl)
        if not decl or not name_match:
            raise ValueError(f"cannot read the {kind} member after the comment {m.group(0)[:60]!r}")
        found.append(Member(name_match.group(1), decl, doc_text(m.group(1))))
    return found


def parse(header: str) -> Tuple[str, List[Decl]]:
    """The file's opening comment and every documented declaration, in order."""
    opening = re.match(r"\s*/\*(.*?)\*/", header, re.S)
    intro = doc_text(opening.group(1)) if opening else ""
    decls: List[Decl] = []
    pos = 0
    for m in COMMENT.finditer(header):
        if m.start() < pos:
            continue  # inside a declaration already read (enum values, struct fields)
        doc = doc_text(m.group(1))
        start = m.end()
        while header[start].isspace():
            start += 1
        code, pos = statement(header, start)
        line = header.count("\n", 0, start) + 1
        flat = " ".join(code.split())
        if flat.startswith("typedef enum"):
            name = re.search(r"}\s*(\w+)\s*;$", flat).group(1)  # type: ignore[union-attr]
            body = code[code.index("{") + 1 : code.rindex("}")]
            decls.append(Decl("enum", name, "", doc, line, members(body, "enum")))
        elif flat.startswith("typedef struct") and "{" in flat:
            name = re.search(r"}\s*(\w+)\s*;$", flat).group(1)  # type: ignore[union-attr]
            body = code[code.index("{") + 1 : code.rindex("}")]
            decls.append(Decl("struct", name, "", doc, line, members(body, "struct")))
        elif flat.startswith("typedef struct"):
            name = re.search(r"(\w+)\s*;$", flat).group(1)  # type: ignore[union-attr]
            decls.append(Decl("opaque", name, flat, doc, line))
        else:
            fn = re.search(r"(\w+)\s*\(", flat)
            if not fn:
                raise ValueError(f"include/oatk.h:{line}: cannot read the declaration {flat[:80]!r}")
            decls.append(Decl("function", fn.group(1), code.strip(), doc, line))
    return intro, decls


def check_everything_documented(header: str, decls: List[Decl]) -> None:
    documented = {d.name for d in decls}
    declared_functions = set(re.findall(r"^[a-z].*?\b(oatk_\w+)\(", header, re.M))
    declared_types = set(re.findall(r"^typedef\s.*?(\w+);$", header, re.M)) | set(
        re.findall(r"^}\s*(\w+);$", header, re.M)
    )
    missing = sorted((declared_functions | declared_types) - documented)
    if missing:
        raise SystemExit(f"include/oatk.h: no doc comment for {', '.join(missing)}")


# The groups of ffi/README.md's API table, by name.
def group_of(name: str) -> str:
    if name.startswith("oatk_server") or name == "oatk_server_options":
        return "The fake server"
    if name in ("oatk_guard", "oatk_decision_free", "oatk_decision"):
        return "Protecting routes"
    if name in ("oatk_last_error", "oatk_status_name", "oatk_status_code", "oatk_string_free", "oatk_version"):
        return "Errors, strings and the version"
    if name in ("oatk_decode", "oatk_header", "oatk_generate_key"):
        return "Tokens and keys without a toolkit"
    if name in ("oatk_token", "oatk_mint", "oatk_jwks", "oatk_validate", "oatk_validate_with_claims", "oatk_claims"):
        return "Minting and validating"
    return "The toolkit: keys and settings"


GROUP_ORDER = [
    "The toolkit: keys and settings",
    "Minting and validating",
    "Protecting routes",
    "Tokens and keys without a toolkit",
    "The fake server",
    "Errors, strings and the version",
]


def linked(text: str, anchors: Dict[str, str], here: Optional[str] = None) -> str:
    """Turn `oatk_xxx` / `OATK_XXX` in inline code into links to their entries."""

    def replace(m: "re.Match[str]") -> str:
        inner = m.group(1)
        target = anchors.get(inner.rstrip("()"))
        if target and target != here:
            return f"[`{inner}`](#{target})"
        return m.group(0)

    return re.sub(r"(?<!\[)`([^`\n]+)`", replace, text)


def render(intro: str, decls: List[Decl], version: str) -> str:
    anchors: Dict[str, str] = {}
    for d in decls:
        anchors[d.name] = d.name.lower()
        for mem in d.members:
            if d.kind == "enum":
                anchors[mem.name] = mem.name.lower()
    out: List[str] = []
    out.append("# C API reference (`oatk.h`)\n")
    out.append(
        "Generated from the doc comments of [`include/oatk.h`](https://github.com/oatk/oatk/blob/main/include/oatk.h)"
        f" (liboatk {version}) when the site is built; cbindgen writes those comments from `ffi/src`."
        " The calling convention (ownership, NULL, strings, errors, threads) holds for every function:"
        " see [the C quick start](../quickstart/c.md#the-calling-convention).\n"
    )
    out.append("```c\n#include \"oatk.h\"   /* cc app.c $(pkg-config --cflags --libs oatk) */\n```\n")
    if intro:
        out.append("!!! note \"From the header\"\n")
        out.append("\n".join("    " + line if line else "" for line in intro.splitlines()) + "\n")

    types = [d for d in decls if d.kind != "function"]
    functions = [d for d in decls if d.kind == "function"]

    out.append("## Contents\n")
    out.append("| | |\n|---|---|")
    out.append("| Types | " + ", ".join(f"[`{d.name}`](#{anchors[d.name]})" for d in types) + " |")
    for g in GROUP_ORDER:
        names = [d for d in functions if group_of(d.name) == g]
        if names:
            out.append(f"| {g} | " + ", ".join(f"[`{d.name}`](#{anchors[d.name]})" for d in names) + " |")
    out.append("")

    out.append("## Types\n")
    for d in types:
        out.append(f"### `{d.name}` {{#{anchors[d.name]}}}\n")
        out.append(linked(d.doc, anchors, d.name) + "\n")
        if d.kind == "opaque":
            out.append(f"```c\n{d.code}\n```\n")
        elif d.kind == "enum":
            out.append("| value | number | meaning |\n|---|---:|---|")
            for mem in d.members:
                number = mem.decl.split("=", 1)[1].strip() if "=" in mem.decl else ""
                doc = linked(mem.doc, anchors, mem.name).replace("\n", " ")
                out.append(f'| <span id="{anchors[mem.name]}">`{mem.name}`</span> | {number} | {doc} |')
            out.append("")
        else:
            out.append("| field | meaning |\n|---|---|")
            for mem in d.members:
                doc = linked(mem.doc, anchors).replace("\n", " ")
                out.append(f"| `{mem.decl}` | {doc} |")
            out.append("")

    for g in GROUP_ORDER:
        group = [d for d in functions if group_of(d.name) == g]
        if not group:
            continue
        out.append(f"## {g}\n")
        for d in group:
            out.append(f"### `{d.name}` {{#{anchors[d.name]}}}\n")
            out.append(f"```c\n{d.code}\n```\n")
            out.append(linked(d.doc, anchors, d.name) + "\n")
    return "\n".join(out)


def workspace_version(repo: Path) -> str:
    text = (repo / "Cargo.toml").read_text()
    m = re.search(r"^\[workspace\.package\][^\[]*?^version\s*=\s*\"([^\"]+)\"", text, re.S | re.M)
    return m.group(1) if m else "?"


def main(argv: List[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    header_path, out_path = Path(argv[1]), Path(argv[2])
    header = header_path.read_text()
    intro, decls = parse(header)
    check_everything_documented(header, decls)
    repo = Path(__file__).resolve().parents[2]
    page = render(intro, decls, workspace_version(repo))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(page)
    n_fn = sum(d.kind == "function" for d in decls)
    print(f"c_reference: {n_fn} functions, {len(decls) - n_fn} types from {header_path} -> {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
