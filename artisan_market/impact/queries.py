"""The impact figures, from a few grouped queries. No requests, no commits.

A grantee's sales are her delivered parcels (`items_total`, what her pieces sold for, without
shipping), counted on the day they were delivered:

- **90 days before / after an award**: delivered in [decided − 90 days, decided) and
  [decided, decided + 90 days);
- **since the award**: delivered from the award's day until her next award, if she has one,
  so that a woman with two grants has each sale counted once, under the grant before it.

The public figures go through `protect`: see docs/decisions.md, "Impact and small groups".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from artisan_market.accounts.models import ArtisanProfile
from artisan_market.extensions import db
from artisan_market.grants.models import (
    Application,
    ApplicationStatus,
    Instalment,
    InstalmentStatus,
    Programme,
)
from artisan_market.money import DEFAULT_CURRENCY
from artisan_market.orders.models import OrderPart, PartStatus
from artisan_market.timeutil import EGYPT, UTCDateTime

WINDOW_DAYS = 90
# The smallest number of women a public figure may describe.
SMALLEST_GROUP = 5
# The key of the group that holds every group too small to be shown alone.
OTHER = "other"
DIMENSIONS = ("programme_id", "governorate", "craft")


# --- a timestamp moved by whole days, on both databases --------------------------------------


class _Shifted(FunctionElement):
    type = sa.DateTime()
    inherit_cache = True
    name = "shifted"


def shifted(moment, days: int) -> _Shifted:
    """`moment` + `days` days (negative: earlier), in SQL."""
    return _Shifted(moment, sa.literal_column(str(int(days))))


@compiles(_Shifted)
def _shifted_postgresql(element, compiler, **kw) -> str:
    moment, days = list(element.clauses)
    return f"({compiler.process(moment, **kw)} + {compiler.process(days, **kw)} * INTERVAL '1 day')"


@compiles(_Shifted, "sqlite")
def _shifted_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps timestamps as "YYYY-MM-DD HH:MM:SS.ffffff": the shifted one is written the
    # same way (to the millisecond), so the two compare as text.
    moment, days = list(element.clauses)
    moment, days = compiler.process(moment, **kw), compiler.process(days, **kw)
    return f"strftime('%Y-%m-%d %H:%M:%f000', {moment}, '{days} days')"


# --- one row per award -------------------------------------------------------------------------


@dataclass(frozen=True)
class Award:
    """One approved application, with her sales around it (minor units)."""

    application_id: int
    programme_id: int
    artisan_id: int
    governorate: str
    craft: str
    awarded: int
    disbursed: int
    decided_at: datetime
    sales_before: int  # the 90 days before the award
    sales_after: int  # the 90 days from the award
    sales_since: int  # from the award to now (or to her next award)
    name: str = ""  # her display name: staff figures only


def _awards(*, programme_id: int | None, until: datetime | None, with_names: bool) -> list[Award]:
    """Every award (of one programme, or all), with its sales: one grouped query."""
    A, P = Application, OrderPart
    awards = sa.select(
        A.id,
        A.programme_id,
        A.artisan_id,
        A.amount_awarded.label("awarded"),
        A.decided_at,
        sa.func.lead(A.decided_at, type_=UTCDateTime())
        .over(partition_by=A.artisan_id, order_by=(A.decided_at, A.id))
        .label("next_at"),
    ).where(A.status == ApplicationStatus.APPROVED)
    paid = (
        sa.select(Instalment.application_id, sa.func.sum(Instalment.amount).label("paid"))
        .where(Instalment.status != InstalmentStatus.CANCELLED)
        .group_by(Instalment.application_id)
    )
    if until is not None:
        awards = awards.where(A.decided_at < until)
        paid = paid.where(Instalment.paid_on < until.astimezone(EGYPT).date())
    awards, paid = awards.subquery("awards"), paid.subquery("paid")

    sold = [
        P.artisan_id == awards.c.artisan_id,
        P.status == PartStatus.DELIVERED,
        P.delivered_at >= shifted(awards.c.decided_at, -WINDOW_DAYS),
    ]
    if until is not None:
        sold.append(P.delivered_at < until)

    def total(*when) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*when), P.items_total), else_=0)), 0)

    after_award = P.delivered_at >= awards.c.decided_at
    columns = [
        awards.c.id,
        awards.c.programme_id,
        awards.c.artisan_id,
        ArtisanProfile.governorate,
        ArtisanProfile.craft,
        awards.c.awarded,
        sa.func.coalesce(paid.c.paid, 0).label("disbursed"),
        awards.c.decided_at,
        total(P.delivered_at < awards.c.decided_at).label("before"),
        total(after_award, P.delivered_at < shifted(awards.c.decided_at, WINDOW_DAYS)).label(
            "after"
        ),
        total(
            after_award,
            sa.or_(awards.c.next_at.is_(None), P.delivered_at < awards.c.next_at),
        ).label("since"),
    ]
    grouped = [*columns[:8]]
    if with_names:
        columns.append(ArtisanProfile.display_name)
        grouped.append(ArtisanProfile.display_name)
    stmt = (
        sa.select(*columns)
        .select_from(awards)
        .join(ArtisanProfile, ArtisanProfile.id == awards.c.artisan_id)
        .outerjoin(paid, paid.c.application_id == awards.c.id)
        .outerjoin(P, sa.and_(*sold))
        .group_by(*grouped)
        .order_by(awards.c.decided_at, awards.c.id)
    )
    if programme_id is not None:
        stmt = stmt.where(awards.c.programme_id == programme_id)
    else:
        # Amounts are added up across programmes: only those in the site's currency.
        stmt = stmt.where(
            awards.c.programme_id.in_(
                sa.select(Programme.id).where(Programme.currency == DEFAULT_CURRENCY)
            )
        )
    return [
        Award(
            application_id=row.id,
            programme_id=row.programme_id,
            artisan_id=row.artisan_id,
            governorate=row.governorate,
            craft=row.craft,
            awarded=int(row.awarded),
            disbursed=int(row.disbursed),
            decided_at=row.decided_at,
            sales_before=int(row.before),
            sales_after=int(row.after),
            sales_since=int(row.since),
            name=row.display_name if with_names else "",
        )
        for row in db.session.execute(stmt)
    ]


def grantees(programme_id: int) -> list[Award]:
    """A programme's awards with each grantee's name and sales, oldest award first (staff)."""
    return _awards(programme_id=programme_id, until=None, with_names=True)


# --- groups --------------------------------------------------------------------------------------


@dataclass
class Group:
    """Figures for a set of awards: how many women, what they got, what they sold."""

    key: Hashable
    women: int = 0
    grants: int = 0
    awarded: int = 0
    disbursed: int = 0
    sales_since: int = 0
    sales_before: int = 0
    sales_after: int = 0
    _who: set[int] = field(default_factory=set, repr=False)

    def add(self, award: Award) -> None:
        self._who.add(award.artisan_id)
        self.women = len(self._who)
        self.grants += 1
        self.awarded += award.awarded
        self.disbursed += award.disbursed
        self.sales_since += award.sales_since
        self.sales_before += award.sales_before
        self.sales_after += award.sales_after


def group_by(awards: Iterable[Award], key: Callable[[Award], Hashable]) -> list[Group]:
    """Groups, the largest amount awarded first; the "other" group last."""
    groups: dict[Hashable, Group] = {}
    for award in awards:
        k = key(award)
        groups.setdefault(k, Group(k)).add(award)
    return sorted(groups.values(), key=lambda g: (g.key == OTHER, -g.awarded, str(g.key)))


def total(awards: Iterable[Award]) -> Group:
    group = Group("total")
    for award in awards:
        group.add(award)
    return group


@dataclass
class ProgrammeSummary:
    id: int
    name_ar: str
    name_en: str
    currency: str
    budget: int
    awarded: int
    disbursed: int
    women: int
    sales_since: int

    @property
    def left(self) -> int:
        return self.budget - self.awarded

    def name(self, locale: str) -> str:
        return self.name_ar if locale == "ar" else self.name_en


def programme_summaries() -> list[ProgrammeSummary]:
    """Every programme, newest first, with its awards, disbursements, women and their sales
    since the award: one query (the awards' query, grouped by programme)."""
    A, P = Application, OrderPart
    awards = sa.select(
        A.id,
        A.programme_id,
        A.artisan_id,
        A.decided_at,
        A.disbursed,
        sa.func.lead(A.decided_at, type_=UTCDateTime())
        .over(partition_by=A.artisan_id, order_by=(A.decided_at, A.id))
        .label("next_at"),
    ).where(A.status == ApplicationStatus.APPROVED)
    awards = awards.subquery("awards")
    since = (
        sa.select(
            awards.c.id,
            sa.func.coalesce(sa.func.sum(P.items_total), 0).label("since"),
        )
        .select_from(awards)
        .outerjoin(
            P,
            sa.and_(
                P.artisan_id == awards.c.artisan_id,
                P.status == PartStatus.DELIVERED,
                P.delivered_at >= awards.c.decided_at,
                sa.or_(awards.c.next_at.is_(None), P.delivered_at < awards.c.next_at),
            ),
        )
        .group_by(awards.c.id)
        .subquery("since")
    )
    per_programme = (
        sa.select(
            awards.c.programme_id,
            sa.func.count(sa.distinct(awards.c.artisan_id)).label("women"),
            sa.func.sum(awards.c.disbursed).label("disbursed"),
            sa.func.sum(since.c.since).label("since"),
        )
        .join(since, since.c.id == awards.c.id)
        .group_by(awards.c.programme_id)
        .subquery("per_programme")
    )
    rows = db.session.execute(
        sa.select(
            Programme.id,
            Programme.name_ar,
            Programme.name_en,
            Programme.currency,
            Programme.budget,
            Programme.awarded,
            per_programme.c.women,
            per_programme.c.disbursed,
            per_programme.c.since,
        )
        .outerjoin(per_programme, per_programme.c.programme_id == Programme.id)
        .order_by(Programme.opens_on.desc(), Programme.id.desc())
    )
    return [
        ProgrammeSummary(
            id=row.id,
            name_ar=row.name_ar,
            name_en=row.name_en,
            currency=row.currency,
            budget=row.budget,
            awarded=row.awarded,
            disbursed=int(row.disbursed or 0),
            women=int(row.women or 0),
            sales_since=int(row.since or 0),
        )
        for row in rows
    ]


# --- the public figures -----------------------------------------------------------------------


def month_start(now: datetime) -> datetime:
    """The first moment of `now`'s month in Egypt, in UTC: the public figures stop there."""
    local = now.astimezone(EGYPT)
    start = datetime(local.year, local.month, 1, tzinfo=EGYPT)
    return start.astimezone(UTC)


@dataclass
class PublicFigures:
    """What /impact may show: groups of at least SMALLEST_GROUP women, the rest in "other"."""

    until: datetime
    total: Group
    by_programme: list[Group]
    by_governorate: list[Group]
    by_craft: list[Group]
    programme_names: dict[int, tuple[str, str]]


def protect(awards: Sequence[Award], smallest: int = SMALLEST_GROUP) -> dict[str, dict] | None:
    """Which groups may be shown alone, per dimension ({"governorate": {"ASN": "ASN", "KN":
    OTHER, …}, …}); None when all the women together are fewer than `smallest`.

    Every published figure is a sum over awards. They are made so that each is a union of
    cells of the cross-table programme × governorate × craft (after merging), and every
    non-empty cell holds at least `smallest` women. A sum or difference of published
    figures is then a sum over whole cells, each with `smallest` women or more: no
    subtraction between views (by governorate against by craft, a group against the total)
    can leave one woman on her own.
    """
    if len({a.artisan_id for a in awards}) < smallest:
        return None
    shown: dict[str, set] = {d: set() for d in DIMENSIONS}
    # First the simple rule: a group with fewer women than `smallest` goes to "other".
    for d in DIMENSIONS:
        for group in group_by(awards, lambda a, d=d: getattr(a, d)):
            if group.women >= smallest:
                shown[d].add(group.key)
    # Then the cells (`_merge_small_cells`). A greedy merge can end with little shown (every
    # governorate's cell split by programme, say): it is also tried with one whole view
    # given up first, and the outcome that shows the most groups is kept.
    outcomes = [_merge_small_cells(awards, shown, smallest)]
    for d in DIMENSIONS:
        outcomes.append(_merge_small_cells(awards, {**shown, d: set()}, smallest))
    shown = max(outcomes, key=lambda kept: sum(len(keys) for keys in kept.values()))
    return {d: {getattr(a, d): _label(a, d, shown) for a in awards} for d in DIMENSIONS}


def _merge_small_cells(
    awards: Sequence[Award], shown: dict[str, set], smallest: int
) -> dict[str, set]:
    """`shown` with groups merged into "other" until every non-empty cell of the cross-table
    has at least `smallest` women."""
    shown = dict(shown)
    # While a cell has fewer than `smallest` women, merge one more group into
    # "other": one of the cell's own groups, or (where the cell is "other" already) the
    # smallest group still shown in that dimension; of these, the one that leaves the fewest
    # women in cells too small, then the smallest. One group fewer each time: it ends, at
    # worst with the one cell "other" × "other" × "other", which is everyone.
    while small := _small_cells(awards, shown, smallest):
        cell = small[0]
        sizes = {d: _sizes(awards, shown, d) for d in DIMENSIONS}
        candidates = set()
        for d, key in zip(DIMENSIONS, cell.key, strict=True):
            if key != OTHER:
                candidates.add((d, key))
            elif sizes[d]:
                candidates.add((d, min(sizes[d], key=lambda k, d=d: (sizes[d][k], str(k)))))

        def cost(candidate, sizes=sizes):
            d, key = candidate
            trial = {**shown, d: shown[d] - {key}}
            left_small = sum(g.women for g in _small_cells(awards, trial, smallest))
            return (left_small, sizes[d][key], DIMENSIONS.index(d), str(key))

        d, key = min(candidates, key=cost)
        shown[d] = shown[d] - {key}
    return shown


def _label(award: Award, d: str, shown: dict[str, set]) -> Hashable:
    value = getattr(award, d)
    return value if value in shown[d] else OTHER


def _sizes(awards: Sequence[Award], shown: dict[str, set], d: str) -> dict[Hashable, int]:
    """Women per group still shown on its own in dimension `d`."""
    return {
        g.key: g.women for g in group_by(awards, lambda a: _label(a, d, shown)) if g.key != OTHER
    }


def _small_cells(awards: Sequence[Award], shown: dict[str, set], smallest: int) -> list[Group]:
    """The non-empty cells of the cross-table with fewer than `smallest` women, smallest first."""
    cells = group_by(awards, lambda a: tuple(_label(a, d, shown) for d in DIMENSIONS))
    return sorted((g for g in cells if g.women < smallest), key=lambda g: (g.women, str(g.key)))


def public_figures(now: datetime) -> PublicFigures | None:
    """The figures up to the start of this month (Egypt), protected; None while fewer than
    SMALLEST_GROUP women have had a grant. Two queries."""
    until = month_start(now)
    awards = _awards(programme_id=None, until=until, with_names=False)
    labels = protect(awards)
    if labels is None:
        return None
    names = {
        row.id: (row.name_ar, row.name_en)
        for row in db.session.execute(sa.select(Programme.id, Programme.name_ar, Programme.name_en))
    }
    return PublicFigures(
        until=until,
        total=total(awards),
        by_programme=group_by(awards, lambda a: labels["programme_id"][a.programme_id]),
        by_governorate=group_by(awards, lambda a: labels["governorate"][a.governorate]),
        by_craft=group_by(awards, lambda a: labels["craft"][a.craft]),
        programme_names=names,
    )
