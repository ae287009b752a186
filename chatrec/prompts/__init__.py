"""Prompt templates: Jinja2 files beside this module (``chatrec/prompts/*.j2``), one prompt per
file, shipped as package data.

Input: a template name (``"rerank"`` or ``"rerank.j2"``) and its variables. Output: text
(``render``) or chat messages (``render_messages``), ready for ``Generator.chat_prompt``.

A template that holds chat messages marks each one as a block named after its role::

    {% block system %}You rank items.{% endblock %}
    {% block user %}Which one? ...{% endblock %}

``render_messages`` returns one ``{"role", "content"}`` per block, in the file's order.
Undefined variables raise (``StrictUndefined``): a typo in a template never renders silently.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

ROLES = ("system", "user", "assistant")


def prompts_dir() -> Path:
    """The templates folder (``$CHATREC_PROMPTS`` overrides): this package's folder."""
    env = os.environ.get("CHATREC_PROMPTS")
    return Path(env) if env else Path(__file__).resolve().parent


@cache
def _environment(folder: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # prompts are plain text for a model, not HTML
    )


def _template(name: str) -> jinja2.Template:
    if not name.endswith(".j2"):
        name += ".j2"
    return _environment(str(prompts_dir())).get_template(name)


def render(name: str, **kwargs: Any) -> str:
    """The whole template rendered as text."""
    return _template(name).render(**kwargs).strip()


def render_messages(name: str, **kwargs: Any) -> list[dict[str, str]]:
    """One chat message per top-level block named system/user/assistant, in file order.

    Raises:
        ValueError: the template has no such block.
    """
    template = _template(name)
    context = template.new_context(kwargs)
    messages = [
        {"role": block, "content": "".join(render_block(context)).strip()}
        for block, render_block in template.blocks.items()
        if block in ROLES
    ]
    if not messages:
        raise ValueError(f"template {name!r} has no block named one of {', '.join(ROLES)}")
    return messages
