"""Impact pages: thin views over impact.queries.

/impact is public (totals only, small groups merged); the programme pages and their CSV are
for coordinators and admins, who see each grantee by name.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort
from flask_babel import gettext as _
from flask_babel import to_user_timezone

from artisan_market.egypt import craft_name, governorate_name
from artisan_market.extensions import db
from artisan_market.grants.models import Programme
from artisan_market.i18n import current_locale, text_direction
from artisan_market.impact import bp, queries
from artisan_market.impact.charts import bar_chart
from artisan_market.impact.queries import OTHER, WINDOW_DAYS
from artisan_market.money import decimal_text, format_money
from artisan_market.responses import render
from artisan_market.security import staff_required
from artisan_market.spreadsheets import cell, csv_bytes
from artisan_market.timeutil import utcnow


def _pounds(value: float) -> str:
    """A chart's value (whole pounds) as money in the page's digits."""
    return format_money(round(value) * 100)


def _chart(title: str, groups: list[queries.Group], name) -> str:
    return bar_chart(
        title,
        [(name(group.key), group.awarded // 100) for group in groups],
        value_text=_pounds,
        rtl=text_direction() == "rtl",
    )


def _namer(kind: str, programme_names: dict[int, tuple[str, str]] | None = None):
    locale = current_locale()

    def name(key) -> str:
        if key == OTHER:
            return _("Other programmes") if kind == "programme" else _("Others together")
        if kind == "governorate":
            return governorate_name(key)
        if kind == "craft":
            return craft_name(key)
        ar, en = (programme_names or {}).get(key, ("", ""))
        return ar if locale == "ar" else en

    return name


@bp.get("/impact")
def public():
    """Totals and charts by programme, governorate and craft, up to the start of this month;
    no names, and no group of fewer than five women (queries.protect)."""
    figures = queries.public_figures(utcnow())
    views = []
    if figures is not None:
        for kind, title, groups in (
            ("programme", _("Grants awarded, by programme"), figures.by_programme),
            ("governorate", _("Grants awarded, by governorate"), figures.by_governorate),
            ("craft", _("Grants awarded, by craft"), figures.by_craft),
        ):
            name = _namer(kind, figures.programme_names)
            views.append(
                {
                    "kind": kind,
                    "title": title,
                    "groups": groups,
                    "name": name,
                    "chart": _chart(title, groups, name),
                }
            )
    return render(
        "impact/public.html",
        figures=figures,
        views=views,
        smallest=queries.SMALLEST_GROUP,
        # The figures stop at the start of this month: the last day they cover.
        last_day=figures.until - timedelta(seconds=1) if figures else None,
        locale=current_locale(),
    )


@bp.get("/impact/programmes")
@staff_required
def programmes():
    """Every programme: budget, awarded, disbursed, left, women, their sales since."""
    return render(
        "impact/programmes.html",
        programmes=queries.programme_summaries(),
        locale=current_locale(),
    )


def _programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        abort(404)
    return programme


@bp.get("/impact/programmes/<id:programme_id>")
@staff_required
def programme(programme_id: int):
    """One programme: its figures by governorate and craft, and each grantee's sales in the
    90 days before and after her award."""
    programme = _programme(programme_id)
    grantees = queries.grantees(programme.id)
    total = queries.total(grantees)
    by_governorate = queries.group_by(grantees, lambda a: a.governorate)
    title = _("Grants awarded, by governorate")
    chart = _chart(title, by_governorate, _namer("governorate")) if grantees else None
    return render(
        "impact/programme.html",
        programme=programme,
        grantees=grantees,
        total=total,
        by_governorate=by_governorate,
        by_craft=queries.group_by(grantees, lambda a: a.craft),
        chart=chart,
        chart_title=title,
        governorate_name=governorate_name,
        craft_name=craft_name,
        window=WINDOW_DAYS,
        days_since=lambda moment: (utcnow() - moment).days,
        locale=current_locale(),
    )


@bp.get("/impact/programmes/<id:programme_id>.csv")
@staff_required
def programme_csv(programme_id: int):
    """Its grantees as a CSV for Excel: UTF-8 with BOM, no cell Excel would run."""
    programme = _programme(programme_id)
    header = [
        _("Name"),
        _("Governorate"),
        _("Craft"),
        _("Award date"),
        _("Awarded (%(currency)s)", currency=programme.currency),
        _("Disbursed (%(currency)s)", currency=programme.currency),
        _("Sales in the %(days)s days before (%(currency)s)", days=WINDOW_DAYS, currency="EGP"),
        _("Sales in the %(days)s days after (%(currency)s)", days=WINDOW_DAYS, currency="EGP"),
        _("Sales since the award (%(currency)s)", currency="EGP"),
    ]
    rows = [header] + [
        [
            cell(award.name),
            governorate_name(award.governorate),
            craft_name(award.craft),
            to_user_timezone(award.decided_at).strftime("%Y-%m-%d"),
            decimal_text(award.awarded, programme.currency),
            decimal_text(award.disbursed, programme.currency),
            decimal_text(award.sales_before),
            decimal_text(award.sales_after),
            decimal_text(award.sales_since),
        ]
        for award in queries.grantees(programme.id)
    ]
    day = to_user_timezone(utcnow()).strftime("%Y%m%d")
    return Response(
        csv_bytes(rows),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=programme-{programme.id}-{day}.csv"},
    )
