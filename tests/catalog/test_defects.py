"""Defects an outside tester found in the shop window (product page, search), kept as tests
so they cannot come back; each failed on the code it was found in."""

from __future__ import annotations

import io
import json
import re

import pytest
import sqlalchemy as sa

from artisan_market.catalog.models import Product
from artisan_market.extensions import db
from tests.conftest import small_jpeg
from tests.test_defects_web import parse_html


def _follow(client, url: str, **kwargs):
    response = client.get(url, **kwargs)
    for _ in range(5):
        if response.status_code not in (301, 302, 303, 307, 308):
            break
        response = client.get(response.headers["Location"], **kwargs)
    return response


# --- 2. A draft without a price ------------------------------------------------------------


def test_previewing_a_draft_without_a_price(client, login_as):
    """Can she preview a draft that has photos but no price yet (200, saying there is no
    price yet), instead of a 500?"""
    artisan = login_as("artisan", verified=True)
    artisan.locale = "en"
    db.session.commit()
    made = client.submit(
        "/studio/products/new",
        {"photos": [(io.BytesIO(small_jpeg()), "photo.jpg")]},
        content_type="multipart/form-data",
    )
    assert made.status_code == 303
    product = db.session.scalar(sa.select(Product))
    assert product.price is None
    response = _follow(client, f"/products/{product.id}")
    assert response.status_code == 200
    assert re.search(r"no price yet", response.get_data(as_text=True), re.IGNORECASE)


# --- 6. The JSON-LD of a product page ------------------------------------------------------

TRICKY_TITLE = "<!--<script> سلة"


def test_json_ld_cannot_swallow_the_page(client, make_product):
    """With the title `<!--<script> سلة`, does the JSON-LD script hold no raw <, > or &
    (written \\u003c, \\u003e, \\u0026) and still give the title back exactly?"""
    product = make_product(status="live", title=TRICKY_TITLE, description="خوص & ألوان <b>")
    response = _follow(client, f"/products/{product.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert match, "no JSON-LD on the page"
    body = match.group(1)
    assert "<" not in body and ">" not in body and "&" not in body, body
    assert "\\u003c" in body and "\\u003e" in body and "\\u0026" in body
    data = json.loads(body)
    assert data["name"] == "<!--<script> سلة"
    assert data["description"] == "خوص & ألوان <b>"


# --- 9. The title is isolated from the text around it -------------------------------------


def test_product_heading_isolates_her_title(client, make_product):
    """Is the title in the product page's <h1> isolated (dir="auto" on the element holding
    it, or a <bdi> around it), so a title in another direction cannot reorder the page?"""
    product = make_product(status="live", title="Basket سلة")
    response = _follow(client, f"/products/{product.id}")
    tree = parse_html(response.get_data(as_text=True))
    heading = tree.find("h1")
    assert heading is not None and "Basket سلة" in heading.text()
    holders = [
        element
        for element in heading.iter()
        if "Basket سلة" in element.text()
        and (element.tag == "bdi" or element.attrs.get("dir") == "auto")
    ]
    assert holders, "the title in <h1> is neither in a <bdi> nor under dir=auto"


# --- 11. A query of punctuation only is no query ------------------------------------------


@pytest.mark.parametrize("q", ['"', '""', "'", "*"])
def test_a_query_of_punctuation_only_is_no_query(client, make_product, q):
    """Is q=" (or "", ', *) treated as no query at all: the normal heading, no "matching"
    heading, and every piece listed?"""
    make_product(status="live", title="سلة خوص")
    make_product(status="live", title="كليم صوف")
    response = client.get("/shop", query_string={"q": q, "lang": "en"})
    assert response.status_code == 200
    tree = parse_html(response.get_data(as_text=True))
    heading = " ".join(tree.find("h2", id="results-heading").text().split())
    assert heading == "All pieces, newest first"
    assert "Pieces that match" not in heading and "Results for" not in heading
    listed = tree.find(id="results").text()
    assert "سلة خوص" in listed and "كليم صوف" in listed
