"""A griffe extension for the Python API reference (docs/mkdocs.yml).

oatk's docstrings are written for ``help()`` and Sphinx habits: roles such as
:class:`OatkError` and ``::`` before an indented example. mkdocstrings renders
docstrings as Markdown, where those show up raw. This turns a role into inline
code (``:class:`X``` -> `X`) and a paragraph's closing ``::`` into ``:``
(the indented block after it is a code block in Markdown already). The
docstrings themselves stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj):`~?([^`]+)`")
LITERAL_MARKER = re.compile(r"(\S)::\n")


def markdown(text: str) -> str:
    text = ROLE.sub(r"`\1`", text)
    return LITERAL_MARKER.sub(r"\1:\n", text)


class RstToMarkdown(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
