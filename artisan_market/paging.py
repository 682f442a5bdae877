"""One way to cut a list into pages, for every list of the site.

`?page=` is read with `urls.url_int`. A page that is not a page number, or is past the end (an
old link, a queue that emptied while she worked), redirects to the first page: never an error
and never an empty page. A page reads one row more than it shows to know whether there is a
next one; counting everything is asked for only where the total is shown (a short queue).
Links to other pages carry only the parameters the page knows (`args`), and
`templates/_pager.html` draws them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from flask import abort, redirect, request, url_for

from artisan_market.extensions import db
from artisan_market.urls import url_int

MAX_PAGE = 10_000

# fetch(stmt, limit, offset) → the rows of one page, in order.
Fetch = Callable[[sa.Select, int, int], list]


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    has_next: bool
    endpoint: str
    args: Mapping[str, str] = field(default_factory=dict)
    total: int | None = None  # only when counted

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.per_page))

    def url(self, number: int) -> str:
        """The address of page `number` of this list (page 1 has no page parameter)."""
        args = {k: v for k, v in self.args.items() if k != "page"}
        page = number if number > 1 else None
        return url_for(self.endpoint, **(request.view_args or {}), **args, page=page)


def requested_page(args: Mapping[str, str] | None = None) -> int:
    """The page asked for; a value that is not a page number redirects to the first page
    (keeping `args`, the page's other known parameters)."""
    text = request.args.get("page")
    if text is None:
        return 1
    number = url_int(text, minimum=1, maximum=MAX_PAGE)
    if number is None:
        _to_first_page(args)
    return number


def _to_first_page(args: Mapping[str, str] | None = None):
    args = {k: v for k, v in (args or {}).items() if k != "page"}
    abort(redirect(url_for(request.endpoint, **(request.view_args or {}), **args), 302))


def _fetch_rows(stmt: sa.Select, limit: int, offset: int) -> list:
    return list(db.session.scalars(stmt.limit(limit).offset(offset)).unique())


def fetch_page(
    stmt: sa.Select,
    per_page: int,
    *,
    args: Mapping[str, str] | None = None,
    number: int | None = None,
    fetch: Fetch = _fetch_rows,
) -> Page:
    """Page `number` (default: the requested one) of `stmt`, which may be past the end."""
    number = requested_page(args) if number is None else number
    rows = fetch(stmt, per_page + 1, (number - 1) * per_page)
    return Page(
        items=rows[:per_page],
        page=number,
        per_page=per_page,
        has_next=len(rows) > per_page,
        endpoint=request.endpoint,
        args=dict(args or {}),
    )


def check_not_past_the_end(page: Page) -> Page:
    """`page`, unless it is past the end: then a redirect to the first page."""
    if page.page > 1 and not page.items:
        _to_first_page(page.args)
    return page


def paginate(
    stmt: sa.Select,
    per_page: int,
    *,
    args: Mapping[str, str] | None = None,
    count: bool = False,
    fetch: Fetch = _fetch_rows,
) -> Page:
    """The requested page of `stmt` (redirects past the end); with `count`, its total too."""
    page = check_not_past_the_end(fetch_page(stmt, per_page, args=args, fetch=fetch))
    if not count:
        return page
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    )
    return replace(page, total=total)
