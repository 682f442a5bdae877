"""/impact: totals for everyone, no names, no group small enough to single a woman out."""

from __future__ import annotations

import itertools
import re

import sqlalchemy as sa

from artisan_market.extensions import db
from artisan_market.grants.models import Application
from artisan_market.impact import queries
from artisan_market.timeutil import utcnow
from tests.conftest import count_queries
from tests.impact.conftest import at


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def test_nothing_is_shown_while_fewer_than_five_women_have_a_grant(client, grantees):
    grantees([("ASN", "basketry")] * 4)
    page = _main(client.get("/impact").get_data(as_text=True))
    assert "٥" in page  # "once at least ٥ women have received a grant"
    assert "<svg" not in page and "ج.م" not in page


def test_four_women_of_one_governorate_are_not_a_group_of_their_own(client, grantees):
    """Aswan 6, Giza 5, Qena 4: Qena goes into "others", and as that would hold only 4,
    Giza with it; no name and no id on the page."""
    women = grantees(
        [("ASN", "basketry")] * 6 + [("GZ", "basketry")] * 5 + [("KN", "basketry")] * 4
    )
    page = _main(client.get("/impact").get_data(as_text=True))
    assert "أسوان" in page
    assert "قنا" not in page and "الجيزة" not in page
    assert "آخرون معًا" in page
    assert "٩" in page  # the nine of Giza and Qena together
    for woman in women:
        assert woman.artisan_profile.display_name not in page
        assert woman.name not in page


def _groups(figures: queries.PublicFigures):
    views = [figures.by_programme, figures.by_governorate, figures.by_craft]
    return [figures.total, *itertools.chain.from_iterable(views)]


def test_no_two_views_can_be_subtracted_to_single_one_out(app, grantees):
    """Aswan: 5 potters. Qena: 1 potter and 5 basket makers. By governorate and by craft
    alone every group has 5 or more, yet "potters" − "Aswan" would be the one potter of
    Qena. The published figures never let a sum or difference come to one woman."""
    women = grantees([("ASN", "pottery")] * 5 + [("KN", "pottery")] + [("KN", "basketry")] * 5)
    awards = {
        w.id: a
        for w, a in zip(
            women, queries._awards(programme_id=None, until=None, with_names=False), strict=True
        )
    }
    lonely = awards[women[5].id]
    # Control: the naive tables (every group of 5 or more shown) give her away.
    naive_potters = sum(a.awarded for a in awards.values() if a.craft == "pottery")
    naive_aswan = sum(a.awarded for a in awards.values() if a.governorate == "ASN")
    assert naive_potters - naive_aswan == lonely.awarded

    figures = queries.public_figures(utcnow())
    groups = _groups(figures)
    for sign in itertools.product((-1, 0, 1), repeat=len(groups)):
        women_count = sum(s * g.women for s, g in zip(sign, groups, strict=True))
        if women_count == 1:
            amount = sum(s * g.awarded for s, g in zip(sign, groups, strict=True))
            assert amount not in {a.awarded for a in awards.values()}, sign
    assert all(g.women >= 5 for g in groups)


def test_one_more_award_today_changes_nothing_on_the_page(client, grantees, make_artisan, award):
    """The page stops at the start of this month: an award made today cannot be told apart
    by comparing the page before and after it."""
    women = grantees([("ASN", "basketry")] * 6)
    before = client.get("/impact").get_data(as_text=True)
    newcomer = make_artisan(verified=True, governorate="ASN", craft="basketry")
    programme = db.session.scalar(sa.select(Application)).programme
    award(programme, newcomer, 777_700, utcnow())
    after = client.get("/impact").get_data(as_text=True)
    assert _main(before) == _main(after)
    assert len(women) == 6


def test_the_charts_are_arabic_right_to_left_with_no_script(client, grantees):
    grantees([("ASN", "basketry")] * 5 + [("FYM", "pottery")] * 5)
    response = client.get("/impact")
    html = response.get_data(as_text=True)
    charts = re.findall(r"<svg xmlns=[^>]*class=\"chart.*?</svg>", html, flags=re.S)
    assert len(charts) == 3
    for chart in charts:
        assert "<script" not in chart and "<style" not in chart and "style=" not in chart
        assert "chart-rtl" in chart and 'role="img"' in chart
    assert "أسوان" in charts[1] and "الفيوم" in charts[1]
    assert "الفخار" in charts[2]
    values = re.findall(r'class="value">([^<]*)<', charts[1])
    assert values and all(re.search("[٠-٩]", v) and not re.search("[0-9]", v) for v in values)
    # Only the site's own two scripts on the page, and the CSP as on every page.
    assert len(re.findall(r"<script", html)) == 2
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_in_english_left_to_right_with_latin_digits(client, grantees):
    grantees([("ASN", "basketry")] * 5)
    html = client.get("/impact?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    chart = re.findall(r"<svg xmlns=[^>]*class=\"chart.*?</svg>", html, flags=re.S)[1]
    assert "Aswan" in chart and "chart-rtl" not in chart
    assert re.search(r'class="value">EGP\xa0[0-9,]+<', chart)
    assert not re.search("[٠-٩]", _main(html))


def test_the_public_page_takes_few_queries_and_is_in_the_sitemap(client, grantees):
    grantees([("ASN", "basketry")] * 5 + [("GZ", "wood")] * 7)
    with count_queries() as statements:
        assert client.get("/impact").status_code == 200
    assert len(statements) <= 3, statements
    assert "http://localhost/impact</loc>" in client.get("/sitemap.xml").get_data(as_text=True)


def test_awards_before_the_window_keep_her_figures_until_the_month_start(app, grantees, sale):
    women = grantees([("ASN", "basketry")] * 5, decided=at("2025-01-10 10:00"))
    sale(women[0], 50_000, at("2025-02-01 10:00"))
    sale(women[1], 1_000_000, utcnow())  # this month: not yet on the page
    figures = queries.public_figures(utcnow())
    assert figures.total.sales_since == 50_000
    assert figures.total.women == 5
