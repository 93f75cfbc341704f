"""mkdocs hook: docstrings written for Sphinx-style readers render cleanly as Markdown.

fnnet's docstrings cross-reference with reStructuredText roles (``:func:`to_nnx```) and
introduce literal blocks with ``::``; Markdown would print both verbatim.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):(<code>)")
_LITERAL_COLONS = re.compile(r"::(</p>)")


def on_page_content(html: str, **kwargs: Any) -> str:
    """Drops role prefixes before inline code and turns a closing ``::`` into ``:``."""
    del kwargs
    return _LITERAL_COLONS.sub(r":\1", _ROLE.sub(r"\1", html))
