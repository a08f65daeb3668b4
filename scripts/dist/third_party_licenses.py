#!/usr/bin/env python3
"""The third-party licence file of a shipped oatk binary, from Cargo.lock.

    third_party_licenses.py --package oatk-ffi [--package ...] --output FILE
    third_party_licenses.py --package oatk-ffi [--package ...] --check [--deny-toml deny.toml]

What it lists: every crate of the NORMAL dependency graph of the given
workspace packages, walked in the resolve of `cargo metadata --filter-platform
TARGET` (default target x86_64-unknown-linux-gnu) and kept to the crates that
`cargo tree -e normal -p PACKAGE` says a build compiles (the metadata resolve
unifies features over the whole workspace and lists optional dependencies no
feature enables, ring for one), with its name, version, licence
expression, repository and the full text of every licence file the crate ships
(LICENSE*, LICENCE*, COPYING*, NOTICE*, COPYRIGHT*, THIRD-PARTY*, UNLICENSE and
the manifest's `license-file`, at the top of the crate and in its
subdirectories, so the C code a -sys crate bundles brings its own notices).

What it leaves out, and why:
  - build-dependencies (cc, cmake, bindgen, napi-build, ...) and whatever only
    they pull in: they run while building and are not linked into the binary;
  - dev-dependencies: tests and benchmarks only;
  - the workspace's own crates (oatk, MIT: LICENSE at the repository root).
Procedural macros (serde_derive, napi-derive, ...) are normal dependencies but
also run only at build time; they are listed, marked "build time only", with
the crates that only they pull in.

A crate that ships no licence text is listed with "text not shipped by the
crate; licence: X" and counted in a warning on stderr; that is not an error.
The output is sorted and carries no date, so the same Cargo.lock gives the
same file.

--check instead compares each crate's licence expression with the allow list
(and per-crate exceptions) of deny.toml and exits 1 on any crate outside it.

Python 3 standard library only (tomllib, for --check, needs Python 3.11).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TARGET = "x86_64-unknown-linux-gnu"

# Names of licence and notice files, matched case-insensitively on the file name.
LICENCE_NAME = re.compile(r"licen[cs]e|^copying|^notice|^copyright|^third[-_ ]?party", re.IGNORECASE)
# Source files whose names happen to match (src/license.rs, ...) are not licence texts.
NOT_A_TEXT = {".rs", ".c", ".h", ".cc", ".cpp", ".go", ".py", ".pyi", ".js", ".ts", ".toml", ".json",
              ".yml", ".yaml", ".cmake", ".s", ".S", ".pl", ".sh", ".in", ".bazel"}
# Subdirectories that hold tests, examples or docs, not code that ends up in a binary.
SKIP_DIRS = {".git", "target", "tests", "test", "testdata", "test-data", "benches", "examples", "docs", "fuzz"}

# What the licence files alone do not say about a crate's bundled C code.
# Paths under a key of "skip" are left out unless the crate's feature named beside it is on.
BUNDLED: dict[str, dict] = {
    "aws-lc-sys": {
        "note": "Bundles and compiles AWS-LC (C and assembly, derived from BoringSSL and OpenSSL, with "
                "fiat-crypto, s2n-bignum and jitterentropy): its LICENSE names the licence of each part "
                "and carries their full texts.",
    },
    "libmimalloc-sys": {
        "note": "The Node addon's allocator on Linux: it compiles c_src/mimalloc/v3, Microsoft's "
                "mimalloc (MIT); c_src/mimalloc/v2 is compiled only with the `v2` feature, which is off.",
        "skip": {"c_src/mimalloc/v2/": "v2"},
    },
    "libsqlite3-sys": {
        "note": "oatk-core turns on its `bundled` feature: it compiles sqlite3/sqlite3.c, SQLite, which "
                "its authors dedicate to the public domain (there is no licence text); sqlcipher/ is "
                "compiled only with `bundled-sqlcipher`, which is off.",
        "skip": {"sqlcipher/": "bundled-sqlcipher"},
    },
}


def run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:2])} failed (exit {done.returncode}); its message is above")
    return done.stdout


def cargo_metadata(manifest: Path, target: str) -> dict:
    return json.loads(run(["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", target,
                           "--manifest-path", str(manifest)]))


def built_for(manifest: Path, target: str, roots: list[str]) -> set[tuple[str, str]]:
    """(name, version) of every crate a build of the roots compiles, as cargo tree resolves it.

    The resolve of `cargo metadata` unifies features over the whole workspace,
    dev-dependencies included, and keeps optional dependencies that no enabled
    feature turns on (ring under rustls-webpki, say); `cargo tree -p` applies the
    feature resolver that `cargo build -p` uses, so what it does not show is not built.
    """
    cmd = ["cargo", "tree", "--locked", "--edges", "normal", "--target", target, "--prefix", "none",
           "--format", "{p}", "--manifest-path", str(manifest)]
    for r in roots:
        cmd += ["--package", r]
    out = run(cmd)
    return {(line.split()[0], line.split()[1].lstrip("v")) for line in out.splitlines() if line.strip()}


def normal_deps(node: dict) -> list[str]:
    """The ids this node depends on as a normal (linked) dependency."""
    return sorted(d["pkg"] for d in node["deps"] if any(k["kind"] is None for k in d["dep_kinds"]))


def shipped_crates(meta: dict, roots: list[str], built: set[tuple[str, str]]) -> tuple[list[dict], set[str]]:
    """Third-party packages reachable from the roots and built, and the ids only procedural macros reach."""
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    members = set(meta["workspace_members"])
    by_name = {packages[i]["name"]: i for i in members}

    def is_proc_macro(pid: str) -> bool:
        return any("proc-macro" in t["kind"] for t in packages[pid]["targets"])

    def walk(through_proc_macros: bool) -> set[str]:
        seen, todo = set(), [by_name[r] for r in roots]
        while todo:
            pid = todo.pop()
            if pid in seen or (pid not in members and (packages[pid]["name"], packages[pid]["version"]) not in built):
                continue
            if not through_proc_macros and is_proc_macro(pid):
                continue
            seen.add(pid)
            todo.extend(normal_deps(nodes[pid]))
        return seen

    everything, linked = walk(True), walk(False)
    third_party = [packages[i] for i in everything - members]
    return third_party, {i for i in everything - linked}


def version_key(version: str) -> tuple:
    core = re.split(r"[-+]", version, maxsplit=1)[0]
    return tuple(int(x) if x.isdigit() else 0 for x in core.split(".")) + (version,)


def licence_files(pkg: dict, features: set[str]) -> list[Path]:
    root = Path(pkg["manifest_path"]).parent
    skip = {prefix for prefix, feature in BUNDLED.get(pkg["name"], {}).get("skip", {}).items()
            if feature not in features}
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        dirnames[:] = [d for d in dirnames
                       if d not in SKIP_DIRS and (rel_dir / d).as_posix() + "/" not in skip]
        for name in filenames:
            if LICENCE_NAME.search(name) and Path(name).suffix not in NOT_A_TEXT:
                found.add(Path(dirpath, name))
    if pkg.get("license_file"):
        lf = Path(pkg["license_file"])
        lf = lf if lf.is_absolute() else root / lf
        if lf.is_file():
            found.add(lf)
    # The crate's top-level files first, then subdirectories, each sorted.
    return sorted(found, key=lambda p: (len(p.relative_to(root).parts) > 1, p.relative_to(root).as_posix()))


def read_text(path: Path) -> str:
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def render(meta: dict, roots: list[str], built: set[tuple[str, str]], target: str) -> tuple[str, list[dict], list[str]]:
    crates, build_time_only = shipped_crates(meta, roots, built)
    crates.sort(key=lambda p: (p["name"], version_key(p["version"])))
    features = {n["id"]: set(n.get("features", [])) for n in meta["resolve"]["nodes"]}
    version = next(p["version"] for p in meta["packages"] if p["id"] in meta["workspace_members"]
                   and p["name"] == roots[0])
    rule = "=" * 80
    out = [
        f"Third-party software in {', '.join(roots)} (oatk {version})",
        "",
        f"The crates below are compiled into it for {target}: the normal dependency graph",
        "from Cargo.lock (cargo metadata, cargo tree). Build-dependencies, which run while building and are",
        "not linked into the binary, and dev-dependencies are not listed. Crates marked",
        '"build time only" are procedural macros and what only they use: they generate code',
        "during the build and are listed for completeness. oatk itself is MIT licensed.",
        "",
        "Generated by scripts/dist/third_party_licenses.py; do not edit.",
        "",
        f"{len(crates)} crates ({len(crates) - len(build_time_only)} linked, "
        f"{len(build_time_only)} build time only):",
        "",
    ]
    width = max(len(f"{p['name']} {p['version']}") for p in crates)
    for p in crates:
        mark = "  (build time only)" if p["id"] in build_time_only else ""
        out.append(f"  {p['name'] + ' ' + p['version']:<{width}}  {p['license'] or 'NO LICENCE GIVEN'}{mark}")
    no_text = []
    for p in crates:
        licence = p["license"] or (f"see {p['license_file']}" if p.get("license_file") else "none given")
        out += ["", rule, f"{p['name']} {p['version']}", rule,
                f"Licence: {licence}",
                f"Repository: {p.get('repository') or 'not given'}"]
        if p["id"] in build_time_only:
            out.append("Build time only: a procedural macro, or used only by one")
        note = BUNDLED.get(p["name"], {}).get("note")
        if note:
            out.append(f"Note: {note}")
        root = Path(p["manifest_path"]).parent
        files = licence_files(p, features.get(p["id"], set()))
        if not files:
            no_text.append(f"{p['name']} {p['version']} ({licence})")
            out += ["", f"Licence text not shipped by the crate; licence: {licence}"]
            continue
        seen: dict[str, str] = {}
        for f in files:
            rel = f.relative_to(root).as_posix() if f.is_relative_to(root) else f.name
            text = read_text(f)
            out += ["", f"--- {rel} ---", ""]
            if text in seen:
                out.append(f"(same text as {seen[text]})")
            else:
                seen[text] = rel
                out.append(text)
    return "\n".join(out) + "\n", crates, no_text


# --- --check: licence expressions against deny.toml -------------------------

TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9.+\-]+(?:\s+WITH\s+[A-Za-z0-9.+\-]+)?)")


def satisfied(expression: str, allowed: set[str]) -> bool:
    """Whether an SPDX expression can be met with licences from the allow list.

    AND binds tighter than OR; "A WITH exception" is one licence; the legacy
    "MIT/Apache-2.0" form is read as OR, as cargo and cargo-deny read it.
    """
    text = expression.replace("/", " OR ")
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        m = TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot parse licence expression {expression!r}")
        tokens.append(re.sub(r"\s+", " ", m.group(1)))
        pos = m.end()

    def parse_or(i: int) -> tuple[bool, int]:
        ok, i = parse_and(i)
        while i < len(tokens) and tokens[i] == "OR":
            right, i = parse_and(i + 1)
            ok = ok or right
        return ok, i

    def parse_and(i: int) -> tuple[bool, int]:
        ok, i = parse_atom(i)
        while i < len(tokens) and tokens[i] == "AND":
            right, i = parse_atom(i + 1)
            ok = ok and right
        return ok, i

    def parse_atom(i: int) -> tuple[bool, int]:
        if i >= len(tokens):
            raise ValueError(f"cannot parse licence expression {expression!r}")
        if tokens[i] == "(":
            ok, i = parse_or(i + 1)
            if i >= len(tokens) or tokens[i] != ")":
                raise ValueError(f"unbalanced parentheses in {expression!r}")
            return ok, i + 1
        return tokens[i] in allowed, i + 1

    ok, end = parse_or(0)
    if end != len(tokens):
        raise ValueError(f"cannot parse licence expression {expression!r}")
    return ok


def check(meta: dict, roots: list[str], built: set[tuple[str, str]], deny_toml: Path) -> int:
    try:
        import tomllib
    except ModuleNotFoundError:
        sys.exit("--check reads deny.toml with tomllib: it needs Python 3.11 or later")
    cfg = tomllib.loads(deny_toml.read_text()).get("licenses", {})
    allow = set(cfg.get("allow", []))
    exceptions: dict[str, set[str]] = {}
    for e in cfg.get("exceptions", []):
        exceptions.setdefault(e["crate"].split("@")[0], set()).update(e.get("allow", []))
    crates, _ = shipped_crates(meta, roots, built)
    bad = []
    for p in sorted(crates, key=lambda p: (p["name"], version_key(p["version"]))):
        expr = p["license"]
        try:
            ok = bool(expr) and satisfied(expr, allow | exceptions.get(p["name"], set()))
        except ValueError as e:
            ok, expr = False, str(e)
        if not ok:
            bad.append(f"  {p['name']} {p['version']}: {expr or 'no licence expression'}")
    if bad:
        print(f"{len(bad)} crate(s) shipped in {', '.join(roots)} have a licence outside the allow list "
              f"of {deny_toml.name}:", file=sys.stderr)
        print("\n".join(bad), file=sys.stderr)
        return 1
    print(f"licences: the {len(crates)} third-party crates shipped in {', '.join(roots)} are all "
          f"within the allow list of {deny_toml.name}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", action="append", required=True, metavar="NAME",
                    help="a workspace package whose binary is shipped (repeatable)")
    ap.add_argument("--output", metavar="FILE", help="where to write the licence file ('-' for stdout)")
    ap.add_argument("--check", action="store_true",
                    help="check every crate's licence against deny.toml's allow list instead of writing")
    ap.add_argument("--deny-toml", type=Path, default=REPO / "deny.toml", metavar="FILE")
    ap.add_argument("--target", default=DEFAULT_TARGET)
    ap.add_argument("--manifest-path", type=Path, default=REPO / "Cargo.toml", metavar="FILE")
    args = ap.parse_args()
    if bool(args.output) == args.check:
        ap.error("give exactly one of --output FILE and --check")

    meta = cargo_metadata(args.manifest_path, args.target)
    roots = list(dict.fromkeys(args.package))
    members = sorted(p["name"] for p in meta["packages"] if p["id"] in meta["workspace_members"])
    unknown = [r for r in roots if r not in members]
    if unknown:
        ap.error(f"not a workspace package: {', '.join(unknown)} (they are: {', '.join(members)})")
    built = built_for(args.manifest_path, args.target, roots)
    if args.check:
        return check(meta, roots, built, args.deny_toml)

    text, crates, no_text = render(meta, roots, built, args.target)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
        print(f"{args.output}: {len(crates)} crates, {len(text.encode())} bytes", file=sys.stderr)
    if no_text:
        print(f"warning: {len(no_text)} crate(s) ship no licence text (listed with their licence "
              f"expression only): {'; '.join(no_text)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
