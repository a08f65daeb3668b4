#!/usr/bin/env python3
"""Run the code blocks of the documentation site (docs/site/**/*.md).

A block runs when an HTML comment right above its fence says how, e.g.

    <!-- run: python -->
    ```python
    ...
    ```

Kinds: `python` (the project's venv, one interpreter per page, blocks
sharing one namespace, in order), `pycon` (a REPL session, checked as a
doctest with ELLIPSIS in that same namespace), `pytest` (the block is a test
file, run by pytest: oatk's plugin is installed), `sh` (bash -euo pipefail),
`console` (`$ command` lines; the lines under one are its expected output,
stdout and stderr as a terminal shows them), `node` (a script; `require('oatk')`
is bindings-node), `node-test` (node --test), `c` (a program compiled against
include/oatk.h and the debug liboatk, then run), `go` (package main, `go run`)
and `go-test` (a _test.go file, `go test`), both against the Go wrapper
through pkg-config. `<!-- output -->` above a ```text block makes that text
the expected standard output of the block before it (`...` matches anything,
as in a doctest).

`<!-- run: file=NAME -->` writes the block to NAME in the page's folder
instead of running it: a config file or a module the next blocks use.

Options after the kind:
  server[=ARGS]   start `oatk server run --port 0 --memory --quiet ARGS` in
                  the page's folder before the block and stop it after; the
                  block's `localhost:5000` (the server's default address, as a
                  reader would type it) is replaced by the server's address

Every page runs in a temporary folder of its own, blocks in page order, with
`oatk` (the debug command line) on PATH. A failing block fails the run with
its file, line and output; the page's later blocks are then skipped (they
build on it). Go blocks are skipped, with a note, when pkg-config cannot find
liboatk in build/ffi/pkgconfig or the Go module is missing.

    python3 tests/docs/run_quickstarts.py [--only quickstart/c.md] [--list] [--site DIR]

The paths of what runs come from the environment, with defaults inside this
checkout (make test-docs sets them): OATK_PYTHON, OATK_CLI, OATK_NODE_PACKAGE,
OATK_DOCS_NODE_MODULES, OATK_LIB_DIR, OATK_INCLUDE_DIR, OATK_GO_MODULE,
OATK_PKG_CONFIG_PATH, CC.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "docs/site"
KINDS = ("python", "pycon", "pytest", "sh", "console", "node", "node-test", "c", "go", "go-test")
TIMEOUT = {"go": 300, "go-test": 300}
DEFAULT_TIMEOUT = 120

BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)<!--\s*(?P<directive>run:[^>]*?|output)\s*-->[ \t]*\n"
    r"(?P=indent)(?P<fence>`{3,})(?P<lang>[\w+-]*)[^\n]*\n"
    r"(?P<body>.*?)"
    r"^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)


def shown(path: Path) -> str:
    """A path as messages show it: from the repository's root when inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def env_path(name: str, default: Path) -> Path:
    return Path(os.environ.get(name) or default)


PYTHON = env_path("OATK_PYTHON", REPO / ".venv/bin/python")
CLI = env_path("OATK_CLI", REPO / "target/debug/oatk")
NODE_PACKAGE = env_path("OATK_NODE_PACKAGE", REPO / "bindings-node")
DOCS_NODE_MODULES = env_path("OATK_DOCS_NODE_MODULES", REPO / "build/docs-node/node_modules")
LIB_DIR = env_path("OATK_LIB_DIR", REPO / "target/debug")
INCLUDE_DIR = env_path("OATK_INCLUDE_DIR", REPO / "include")
GO_MODULE = env_path("OATK_GO_MODULE", REPO / "go")
PKG_CONFIG_PATH = env_path("OATK_PKG_CONFIG_PATH", REPO / "build/ffi/pkgconfig")
CC = os.environ.get("CC") or "cc"


@dataclass
class Block:
    page: Path
    line: int  # the fence's line, 1-based
    kind: str
    lang: str
    body: str
    options: Dict[str, str] = field(default_factory=dict)
    expected_output: Optional[str] = None

    @property
    def where(self) -> str:
        return f"{shown(self.page)}:{self.line}"


class BlockFailed(Exception):
    def __init__(self, block: Block, message: str, output: str = "") -> None:
        super().__init__(message)
        self.block = block
        self.output = output


# -- reading the pages ---------------------------------------------------------


def parse_page(page: Path) -> List[Block]:
    text = page.read_text()
    blocks: List[Block] = []
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("fence")) + 1
        body = textwrap.dedent(m.group("body")) if m.group("indent") else m.group("body")
        directive = m.group("directive").strip()
        if directive == "output":
            if not blocks or blocks[-1].expected_output is not None:
                raise SystemExit(f"{shown(page)}:{line}: <!-- output --> follows no runnable block")
            blocks[-1].expected_output = body
            continue
        words = shlex.split(directive[len("run:") :])
        if words and words[0].startswith("file="):
            words.insert(0, "file")  # `<!-- run: file=NAME -->`: no kind to name
        if not words or words[0] not in KINDS + ("file",):
            raise SystemExit(f"{shown(page)}:{line}: unknown block kind in <!-- {directive} -->; one of {KINDS}")
        options = {}
        for word in words[1:]:
            key, _, value = word.partition("=")
            options[key] = value
        unknown = set(options) - ({"file"} if words[0] == "file" else {"server"})
        if unknown:
            raise SystemExit(f"{shown(page)}:{line}: unknown option {sorted(unknown)} in <!-- {directive} -->")
        blocks.append(Block(page, line, words[0], m.group("lang"), body, options))
    # A marker that the regex did not take (a typo, a fence missing) must not pass silently.
    markers = len(re.findall(r"<!--\s*(?:run:|output\s*-->)", text))
    if markers != len(blocks) + sum(b.expected_output is not None for b in blocks):
        raise SystemExit(f"{shown(page)}: a <!-- run: --> or <!-- output --> comment is not right above a fence")
    return blocks


# -- matching output -------------------------------------------------------------


def matches(expected: str, actual: str) -> bool:
    """Line by line; `...` in the expected text matches anything (doctest's ELLIPSIS)."""
    import doctest

    checker = doctest.OutputChecker()
    want = expected.rstrip("\n") + "\n"
    got = actual.rstrip("\n") + "\n"
    return checker.check_output(want, got, doctest.ELLIPSIS)


def kill_group(process: "subprocess.Popen[str]") -> None:
    """The block's process and whatever it left running (its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_process(block: Block, args: List[str], cwd: Path, env: Dict[str, str], what: str,
                timeout: Optional[int] = None, merge_stderr: bool = False) -> str:
    timeout = timeout or TIMEOUT.get(block.kind, DEFAULT_TIMEOUT)
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        stdout, stderr = process.communicate()
        raise BlockFailed(block, f"{what}: no answer in {timeout} s", (stdout or "") + (stderr or "")) from None
    finally:
        kill_group(process)
    output = stdout + ("" if merge_stderr else stderr)
    if process.returncode != 0:
        raise BlockFailed(block, f"{what}: exit status {process.returncode}", output)
    return stdout


def check_expected(block: Block, stdout: str) -> None:
    if block.expected_output is not None and not matches(block.expected_output, stdout):
        raise BlockFailed(block, "the output differs from the <!-- output --> block below it",
                          f"--- expected\n{block.expected_output}--- got\n{stdout}")


# -- the fake server fixture -------------------------------------------------------


class FakeServer:
    """`oatk server run --port 0 --memory --quiet` for one block."""

    def __init__(self, block: Block, cwd: Path, env: Dict[str, str], extra: str) -> None:
        args = [str(CLI), "server", "run", "--host", "localhost", "--port", "0", "--memory", "--quiet"]
        args += shlex.split(extra)
        self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, start_new_session=True)
        assert self.process.stdout is not None
        # Its first line is its URL; a server that says nothing in 20 s is not starting.
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        self.url = self.process.stdout.readline().strip() if ready else ""
        if not self.url.startswith("http://"):
            self.stop()
            raise BlockFailed(block, f"the fake server did not start ({' '.join(args[1:])})", self.stderr)

    @property
    def address(self) -> str:
        return self.url.split("://", 1)[1].rstrip("/")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr = self.process.stderr.read() if self.process.stderr else ""


# -- one page ------------------------------------------------------------------------

PYTHON_WORKER = r'''
import contextlib, doctest, io, json, os, sys, traceback
# Answers go to a private copy of stdout; what a block's child processes write
# to file descriptor 1 lands on stderr instead of in the middle of an answer.
answers = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
namespace = {"__name__": "__main__"}
for line in sys.stdin:
    request = json.loads(line)
    out = io.StringIO()
    ok = True
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            if request["kind"] == "pycon":
                test = doctest.DocTestParser().get_doctest(request["code"], namespace, request["where"], request["where"], request["line"])
                runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
                runner.run(test, out=out.write, clear_globs=False)
                ok = runner.failures == 0
            else:
                exec(compile(request["code"], request["where"], "exec"), namespace)
    except BaseException:
        ok = False
        out.write(traceback.format_exc())
    answers.write(json.dumps({"ok": ok, "output": out.getvalue()}) + "\n")
    answers.flush()
'''


class PythonWorker:
    """One interpreter per page: the page's python and pycon blocks share its namespace."""

    def __init__(self, cwd: Path, env: Dict[str, str]) -> None:
        self.process = subprocess.Popen([str(PYTHON), "-c", PYTHON_WORKER], cwd=cwd, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)

    def run(self, block: Block) -> str:
        assert self.process.stdin and self.process.stdout
        # Line numbers in tracebacks are the page's: the block starts on the line after the fence.
        code = "\n" * block.line + block.body if block.kind == "python" else block.body
        request = {"kind": block.kind, "code": code, "where": block.where.rsplit(":", 1)[0], "line": block.line}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], DEFAULT_TIMEOUT)
        if not ready:
            kill_group(self.process)
            raise BlockFailed(block, f"{block.kind}: no answer in {DEFAULT_TIMEOUT} s")
        answer = self.process.stdout.readline()
        if not answer:
            raise BlockFailed(block, f"the Python interpreter exited (status {self.process.wait()})")
        result = json.loads(answer)
        if not result["ok"]:
            raise BlockFailed(block, "an exception" if block.kind == "python" else "the REPL session differs",
                              result["output"])
        return result["output"]

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Go:
    available: bool
    note: str
    env: Dict[str, str] = field(default_factory=dict)


def find_go(base_env: Dict[str, str]) -> Go:
    if not shutil.which("go"):
        return Go(False, "no `go` on PATH")
    go_mod = GO_MODULE / "go.mod"
    if not go_mod.exists():
        return Go(False, f"no Go module at {GO_MODULE.relative_to(REPO) if GO_MODULE.is_relative_to(REPO) else GO_MODULE}")
    module = re.search(r"^module\s+(\S+)", go_mod.read_text(), re.M)
    if not module:
        return Go(False, f"{go_mod} names no module")
    env = dict(base_env, PKG_CONFIG_PATH=f"{PKG_CONFIG_PATH}:{base_env.get('PKG_CONFIG_PATH', '')}".rstrip(":"),
               CGO_ENABLED="1", GOFLAGS="-mod=mod")
    if subprocess.run(["pkg-config", "--exists", "oatk"], env=env).returncode != 0:
        return Go(False, f"pkg-config finds no oatk.pc in {PKG_CONFIG_PATH} (made by the Go/pkg-config setup in mk/ffi.mk)")
    libdir = subprocess.run(["pkg-config", "--variable=libdir", "oatk"], env=env, capture_output=True,
                            text=True).stdout.strip()
    if libdir:
        env["LD_LIBRARY_PATH"] = f"{libdir}:{env.get('LD_LIBRARY_PATH', '')}".rstrip(":")
    env["OATK_GO_MODULE_PATH"] = module.group(1)
    return Go(True, "", env)


class Page:
    def __init__(self, page: Path, site: Path, blocks: List[Block], base_env: Dict[str, str], go: Go,
                 tmp: Path) -> None:
        self.page = page
        self.blocks = blocks
        self.go = go
        self.dir = tmp / page.relative_to(site).with_suffix("").as_posix().replace("/", "-")
        self.dir.mkdir(parents=True)
        bin_dir = self.dir / ".bin"
        bin_dir.mkdir()
        (bin_dir / "oatk").symlink_to(CLI)
        self.env = dict(base_env, PATH=f"{bin_dir}:{Path(PYTHON).parent}:{base_env['PATH']}",
                        NODE_PATH=str(DOCS_NODE_MODULES))
        (self.dir / "node_modules").mkdir()
        (self.dir / "node_modules/oatk").symlink_to(NODE_PACKAGE)
        self.python: Optional[PythonWorker] = None

    def close(self) -> None:
        if self.python:
            self.python.close()

    def run(self, block: Block) -> str:
        if "file" in block.options:
            target = self.dir / block.options["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body)
            return "wrote"
        server = None
        if "server" in block.options:
            server = FakeServer(block, self.dir, self.env, block.options["server"])
            here = server.address
            block = dataclasses.replace(
                block, body=block.body.replace("localhost:5000", here),
                expected_output=None if block.expected_output is None
                else block.expected_output.replace("localhost:5000", here))
        try:
            return self.execute(block, server)
        finally:
            if server:
                server.stop()

    def execute(self, block: Block, server: Optional[FakeServer]) -> str:
        kind = block.kind
        body = block.body
        stem = f"block_{block.line}"
        env = dict(self.env, OATK_URL=server.url) if server else self.env
        if kind in ("python", "pycon"):
            if self.python is None:
                self.python = PythonWorker(self.dir, self.env)
            out = self.python.run(block)
            check_expected(block, out)
            return out
        if kind == "pytest":
            path = self.dir / f"test_{stem}.py"
            path.write_text(body)
            return run_process(block, [str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", path.name],
                               self.dir, env, "pytest", merge_stderr=True)
        if kind == "sh":
            path = self.dir / f"{stem}.sh"
            path.write_text(body)
            out = run_process(block, ["bash", "-euo", "pipefail", path.name], self.dir, env, "sh")
            check_expected(block, out)
            return out
        if kind == "console":
            return self.console(block, env)
        if kind in ("node", "node-test"):
            ext = ".mjs" if re.search(r"^\s*import\s", body, re.M) else ".js"
            path = self.dir / f"{stem}{'.test' if kind == 'node-test' else ''}{ext}"
            path.write_text(body)
            args = ["node", "--test", "--test-reporter=spec", path.name] if kind == "node-test" else ["node", path.name]
            out = run_process(block, args, self.dir, env, kind, merge_stderr=kind == "node-test")
            if kind == "node-test" and not re.search(r"\btests [1-9]", out):
                raise BlockFailed(block, "node --test ran no test", out)
            check_expected(block, out)
            return out
        if kind == "c":
            source = self.dir / f"{stem}.c"
            source.write_text(body)
            exe = self.dir / stem
            run_process(block, [CC, "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE_DIR}",
                                source.name, "-o", exe.name, f"-L{LIB_DIR}", f"-Wl,-rpath,{LIB_DIR}", "-loatk",
                                "-lpthread"], self.dir, env, "cc", merge_stderr=True)
            out = run_process(block, [str(exe)], self.dir, env, "the program")
            check_expected(block, out)
            return out
        if kind in ("go", "go-test"):
            return self.go_block(block, env)
        raise AssertionError(kind)

    def console(self, block: Block, env: Dict[str, str]) -> str:
        body = block.body
        steps: List[Tuple[str, List[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
            elif line.strip():
                raise BlockFailed(block, f"a console block starts with `$ `: {line!r}")
        output = []
        for command, expected in steps:
            try:
                stdout = run_process(block, ["bash", "-o", "pipefail", "-c", command], self.dir, env,
                                     f"`{command}`", merge_stderr=True)
            except BlockFailed as failure:
                failure.output = "".join(output) + f"$ {command}\n{failure.output}"
                raise
            output.append(f"$ {command}\n{stdout}")
            if expected and not matches("\n".join(expected), stdout):
                raise BlockFailed(block, f"`{command}` printed something else",
                                  "--- expected\n" + "\n".join(expected) + "\n--- got\n" + stdout)
        return "".join(output)

    def go_block(self, block: Block, env: Dict[str, str]) -> str:
        body = block.body
        if not self.go.available:
            return "skipped"
        module_path = self.go.env["OATK_GO_MODULE_PATH"]
        work = self.dir / f"go_{block.line}"
        work.mkdir()
        (work / "go.mod").write_text(
            f"module oatk.example/docs\n\ngo 1.25\n\nrequire {module_path} v0.0.0\n\nreplace {module_path} => {GO_MODULE}\n")
        if (GO_MODULE / "go.sum").exists():
            shutil.copy(GO_MODULE / "go.sum", work / "go.sum")
        name = "docs_test.go" if block.kind == "go-test" else "main.go"
        (work / name).write_text(body)
        go_env = dict(env, **{k: v for k, v in self.go.env.items() if k != "OATK_GO_MODULE_PATH"})
        go_env["PATH"] = env["PATH"]
        args = ["go", "test", "-count=1", "-v", "."] if block.kind == "go-test" else ["go", "run", "."]
        out = run_process(block, args, work, go_env, f"go {'test' if block.kind == 'go-test' else 'run'}",
                          merge_stderr=block.kind == "go-test")
        if block.kind == "go":
            check_expected(block, out)
        elif "--- PASS" not in out:
            raise BlockFailed(block, "go test ran no test", out)
        return out


# -- main -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="a page under the site folder (repeatable)")
    parser.add_argument("--site", type=Path, default=SITE, help="the folder of the pages (default docs/site)")
    parser.add_argument("--list", action="store_true", help="list the runnable blocks and stop")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args()

    site = args.site.resolve()
    pages = sorted(site.rglob("*.md"))
    if args.only:
        pages = [site / p for p in args.only]
    plan = [(page, parse_page(page)) for page in pages]
    plan = [(page, blocks) for page, blocks in plan if blocks]
    if args.list:
        for _page, blocks in plan:
            for b in blocks:
                print(f"{b.where:45} {b.kind}{' ' + ' '.join(f'{k}={v}' if v else k for k, v in b.options.items()) if b.options else ''}")
        return 0

    for tool, path in (("OATK_PYTHON", PYTHON), ("OATK_CLI", CLI), ("OATK_NODE_PACKAGE", NODE_PACKAGE),
                       ("OATK_DOCS_NODE_MODULES", DOCS_NODE_MODULES), ("OATK_LIB_DIR", LIB_DIR)):
        if not path.exists():
            print(f"run_quickstarts: {tool}={path} does not exist (make test-docs builds it)", file=sys.stderr)
            return 2

    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    base_env["PYTHONDONTWRITEBYTECODE"] = "1"
    go = find_go(base_env)
    ran: Counter = Counter()
    skipped: Counter = Counter()
    failures: List[BlockFailed] = []
    start = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="oatk-docs-"))
    try:
        for page, blocks in plan:
            runner = Page(page, site, blocks, base_env, go, tmp)
            t0 = time.monotonic()
            counts: Counter = Counter()
            try:
                for i, block in enumerate(blocks):
                    try:
                        result = runner.run(block)
                    except BlockFailed as failure:
                        failures.append(failure)
                        for later in blocks[i + 1 :]:
                            skipped[later.kind] += 1
                        break
                    if result == "skipped":
                        skipped[block.kind] += 1
                    elif result == "wrote":
                        counts["file"] += 1
                    else:
                        counts[block.kind] += 1
                        ran[block.kind] += 1
            finally:
                runner.close()
            status = "FAILED" if failures and failures[-1].block.page == page else "ok"
            summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing run"
            print(f"{status:6} {shown(page)}: {summary} ({time.monotonic() - t0:.1f} s)", flush=True)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    for failure in failures:
        b = failure.block
        print(f"\n{b.where}: {b.kind} block failed: {failure}", file=sys.stderr)
        if failure.output.strip():
            print(textwrap.indent(failure.output.rstrip(), "    "), file=sys.stderr)
    if not go.available and (skipped["go"] or skipped["go-test"]):
        print(f"note: {skipped['go'] + skipped['go-test']} Go blocks not run: {go.note}")
    elif skipped:
        print("not run (after a failure on their page): " + ", ".join(f"{n} {k}" for k, n in sorted(skipped.items())))
    total = sum(ran.values())
    print("blocks run: " + ", ".join(f"{k} {n}" for k, n in sorted(ran.items())) + f" in {time.monotonic() - start:.0f} s")
    if total == 0 and not failures:
        print("run_quickstarts: no block ran", file=sys.stderr)
        return 1
    print(f"{total} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
