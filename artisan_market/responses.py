"""One way to answer a page that htmx may ask a piece of.

A page and its htmx fragments share a URL: the fragment is chosen by the element htmx will
swap (`HX-Target`), never by what triggered the request, and every such answer says
`Vary: HX-Request` so no cache hands the fragment to a browser that asked for the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, render_template

from artisan_market.extensions import htmx


def htmx_target() -> str | None:
    """The id of the element an htmx request will swap; None for a plain request."""
    return htmx.target if htmx else None


def render(
    template: str,
    *,
    fragments: Mapping[str, str] | None = None,
    status: int = 200,
    **context,
) -> Response:
    """`template`, or for an htmx request aimed at one of `fragments` (target id → template),
    that fragment; with `Vary: HX-Request`. The template gets the target it answers as
    `fragment_target` (None for the whole page)."""
    target = htmx_target()
    chosen = (fragments or {}).get(target or "", template)
    context["fragment_target"] = target if chosen != template else None
    response = Response(render_template(chosen, **context), status=status)
    response.vary.add("HX-Request")
    return response
