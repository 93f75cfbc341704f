"""mkdocs hooks: the guides and docstrings, written for readers of the repository, render
cleanly as a site.

- fnnet's docstrings cross-reference with reStructuredText roles (``:func:`to_nnx```)
  and introduce literal blocks with ``::``; Markdown would print both verbatim.
- The guides link to files outside ``docs/`` (``../benchmarks/RESULTS.md``), which the
  site does not hold: such a link becomes the file's path as text when the file exists,
  and stays a broken link (a warning, an error under ``--strict``) when it does not.
"""

from __future__ import annotations

import logging
import pathlib
import re
from typing import Any

_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):(<code>)")
_LITERAL_COLONS = re.compile(r"::(</p>)")
_OUTSIDE_LINK = re.compile(r"\[([^\]]+)\]\((\.\./[^)#\s]+)(#[^)\s]*)?\)")
_LOG = logging.getLogger("mkdocs.plugins.fnnet_hooks")


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    """Turns links to existing repository files outside ``docs/`` into their paths."""
    del kwargs
    repo = pathlib.Path(config["config_file_path"]).resolve().parent
    folder = pathlib.Path(page.file.abs_src_path).resolve().parent

    def replace(match: re.Match[str]) -> str:
        text, target = match.group(1), (folder / match.group(2)).resolve()
        if not target.exists() or repo not in target.parents:
            _LOG.warning("%s links to %s, which does not exist in the repository",
                         page.file.src_path, match.group(2))
            return match.group(0)
        path = target.relative_to(repo).as_posix()
        return f"`{path}`" if text.strip("`") == path else f"{text} (`{path}`)"

    return _OUTSIDE_LINK.sub(replace, markdown)


def on_page_content(html: str, **kwargs: Any) -> str:
    """Drops role prefixes before inline code and turns a closing ``::`` into ``:``."""
    del kwargs
    return _LITERAL_COLONS.sub(r":\1", _ROLE.sub(r"\1", html))
