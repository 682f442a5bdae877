"""Search: the normaliser, the query table (the same answers on SQLite and PostgreSQL), bad
input, the index following every change, the query plan, and the migration that builds it."""

from __future__ import annotations

import importlib.util
import os
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_babel import force_locale

from artisan_market import create_app
from artisan_market.accounts.models import ArtisanProfile, Role, User, VerificationStatus
from artisan_market.catalog import listings, search
from artisan_market.catalog.models import Category, ListingStatus, Product
from artisan_market.catalog.search import apply_search, normalise
from artisan_market.egypt import CRAFTS, GOVERNORATES
from artisan_market.extensions import db
from tests.conftest import _settings, _unique_phone, query_plan

VERSIONS = Path(__file__).resolve().parents[2] / "migrations/versions"
# The revisions that hold a copy of the normaliser (and of the names) for their backfill.
REVISIONS = ["378708781110_search_index.py", "c4e7a1d25b90_search_weights.py"]
BEFORE_SEARCH = "87eb5752593e"
BEFORE_WEIGHTS = "9f3b2c61d0a4"


# --- the normaliser ---------------------------------------------------------------------

NORMALISED = [
    ("", ""),
    ("   \t\n ", ""),
    # alef forms, alef maqsura, teh marbuta
    ("أسوان", "اسوان"),
    ("إسورة", "اسوره"),
    ("آنية", "انيه"),
    ("ٱسم", "اسم"),
    ("على", "علي"),
    ("سلة", "سله"),
    # hamza on a seat → the bare seat
    ("مؤسسة", "موسسه"),
    ("قائمة", "قايمه"),
    # diacritics, superscript alef, Quranic marks, tatweel
    ("مُطَرَّز", "مطرز"),
    ("قُلَّة", "قله"),
    ("هٰذا", "هذا"),
    ("صلۖى", "صلي"),
    ("كلـــيم", "كليم"),
    ("َُِ", ""),
    # digits: Arabic-Indic, Persian, full-width (NFKC)
    ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
    ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
    ("٢٥٠ جنيه", "250 جنيه"),
    ("１２３", "123"),
    # presentation forms and ligatures (NFKC)
    ("ﻻ", "لا"),
    ("ﺳﻠﺔ", "سله"),
    # Persian yeh and kaf
    ("کیف", "كيف"),
    # Latin case folding
    ("Clay VASE", "clay vase"),
    ("Straße", "strasse"),
    # punctuation of both scripts and ASCII → space, collapsed
    ("سلة، خوص؛ كبيرة؟", "سله خوص كبيره"),
    ("hand-made (Siwa)!", "hand made siwa"),
    ('"سلة" * NEAR - AND', "سله near and"),
    ("a_b", "a b"),
    ("<b>سلة</b>", "b سله b"),
    # the article and common prefixes, longest first, only when 2 letters remain
    ("الخوص", "خوص"),
    ("والسمار", "سمار"),
    ("بالخوص", "خوص"),
    ("فالفخار", "فخار"),
    ("كالذهب", "ذهب"),
    ("للبيع", "بيع"),
    ("اللون", "لون"),
    ("الله", "له"),
    ("إلى", "الي"),  # "ال" + one letter: kept whole
    ("والد", "والد"),  # "وال" + one letter: kept whole
    ("بالغ", "بالغ"),
    ("ال", "ال"),
    ("وسلة", "وسله"),  # "و" alone is not a prefix we strip
    ("الكليم والمنسوجات", "كليم منسوجات"),
]


@pytest.mark.parametrize(("text", "expected"), NORMALISED)
def test_normalise(text, expected):
    assert normalise(text) == expected


def test_query_words_are_cut_deduplicated_and_skip_single_letters():
    assert search.query_words("سلة و طبق السلة") == ["سله", "طبق"]
    assert search.query_words("a " * 50) == []
    long = " ".join(f"كلمة{n}" for n in range(40))
    assert len(search.query_words(long)) == search.MAX_QUERY_WORDS
    assert len("".join(search.query_words("س" * 2000))) == search.MAX_QUERY_CHARS
    assert search.fts5_query(["سله", "خوص"]) == '"سله"* "خوص"*'
    assert search.tsquery_text(["سله", "o'k"]) == "'سله':* & 'o''k':*"


# --- the revision's copy of the normaliser and of the names -----------------------------


def _revision_module(name: str = REVISIONS[0]):
    spec = importlib.util.spec_from_file_location(f"search_revision_{name[:12]}", VERSIONS / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", REVISIONS)
def test_the_revisions_copy_agrees_with_the_app(app, name):
    """Does the backfill in the revision index exactly as the app does?"""
    revision = _revision_module(name)
    rng = random.Random(4)
    alphabet = "ابتةثجحخدذرزسشصضطظعغفقكلمنهويىأإآٱؤئءـًٌٍَُِّْٰ٠١٢٣٤٥٦٧٨٩AbC ،؛؟.-_'\"*()"
    samples = [text for text, _ in NORMALISED]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(500)
    ]
    for text in samples:
        assert revision.normalise(text) == normalise(text), text
    for table, copy in ((GOVERNORATES, revision.GOVERNORATES), (CRAFTS, revision.CRAFTS)):
        assert set(copy) == set(table)
        for code, name in table.items():
            with force_locale("ar"):
                ar = str(name)
            with force_locale("en"):
                en = str(name)
            assert copy[code] == (ar, en)


def test_the_weights_revision_splits_the_text_as_the_app_does(app):
    """The revision's three parts are the app's, and its text for the downgrade is the one
    the revision before it computed."""
    before, weights = (_revision_module(name) for name in REVISIONS)
    rng = random.Random(5)
    categories = [*db.session.scalars(sa.select(Category)), None]
    texts = [text for text, _ in NORMALISED]
    for _ in range(200):
        category = rng.choice(categories)
        fields = {
            "title": rng.choice(texts),
            "description": rng.choice(texts),
            "materials": rng.choice(texts),
            "category_ar": category.name_ar if category else "",
            "category_en": category.name_en if category else "",
            "display_name": rng.choice(texts),
            "governorate": rng.choice([None, *GOVERNORATES]),
            "craft": rng.choice([None, *CRAFTS]),
        }
        row = SimpleNamespace(
            **fields, name_ar=category and category.name_ar, name_en=category and category.name_en
        )
        assert weights.search_columns_for(row) == search.search_columns_for(**fields)
        assert weights.search_text_for(row) == before.search_text_for(row)


# --- the query table --------------------------------------------------------------------

# (title, description, materials, category slug, artisan key)
PRODUCTS = [
    ("سلة خوص ملونة", "سلة من الخوص الملون، مصنوعة يدويًا.", "خوص", "basketry", "nadia"),
    ("طبق خوص كبير", "طبق للخبز بقطر ٤٠ سم.", "خوص، سعف نخيل", "basketry", "nadia"),
    ("شال مطرز سيوي", "تطريز يدوي من واحة سيوة بالخيوط الحمراء.", "قطن", "embroidery", "fatma"),
    ("فستان مُطَرَّز", "فستان أسود بتطريز بدوي.", "قطن، حرير", "embroidery", "fatma"),
    ("قُلّة فخار", "قلة لتبريد الماء، من فخار الفيوم.", "طين", "pottery", "umm_ahmed"),
    ("Clay Vase", "Handmade pottery vase, 250 ml", "Clay", "pottery", "mona"),
    ("كليم صوف", "كليم منسوج على النول اليدوي ـ ألوان طبيعية", "صوف", "textiles", "salma"),
    ("إسورة فضة", "إسورة من الفضة المصرية عيار ٩٢٥", "فضة", "jewellery", "huda"),
    ("حقيبة جلد", "حقيبة يد من الجلد الطبيعي", "جلد", "leather", "huda"),
    ("علبة خشب للمجوهرات", "علبة مزخرفة بالصدف", "خشب، صدف", "wood", "mona"),
    ("مِرآة زجاج معشق", "مرآة بإطار من الزجاج الملون", "زجاج", "glass", "salma"),
    (
        "Embroidered Cushion Cover",
        "Siwa-style embroidery, cotton, 45x45 cm",
        "Cotton",
        "embroidery",
        "fatma",
    ),
]

# key: (display name, governorate, craft); village is private and never indexed
ARTISANS = {
    "nadia": ("نادية", "ASN", "basketry", "غرب سهيل"),
    "fatma": ("فاطمة الزهراء", "MT", "embroidery", "سيوة"),
    "umm_ahmed": ("أم أحمد", "FYM", "pottery", "تونس"),
    "mona": ("Mona Hassan", "C", "pottery", "المعادي"),
    "salma": ("سلمى", "SHG", "textiles", "نقادة"),
    "huda": ("هدى", "LX", "jewellery", "القرنة"),
}

S1, S2 = "سلة خوص ملونة", "طبق خوص كبير"
E1, E2, E3 = "شال مطرز سيوي", "فستان مُطَرَّز", "Embroidered Cushion Cover"
P1, P2 = "قُلّة فخار", "Clay Vase"
KILIM, BRACELET, BAG = "كليم صوف", "إسورة فضة", "حقيبة جلد"
BOX, MIRROR = "علبة خشب للمجوهرات", "مِرآة زجاج معشق"

QUERIES = [
    # ة/ه, the article and prefixes
    ("سلة", {S1}),
    ("سله", {S1}),
    ("السلة", {S1}),
    ("الخوص", {S1, S2}),
    ("بالخوص", {S1, S2}),
    ("والخوص", {S1, S2}),
    ("للخوص", {S1, S2}),
    # diacritics and tatweel, on either side
    ("مطرز", {E1, E2}),
    ("مُطَرَّز", {E1, E2}),
    ("قلة", {P1}),
    ("قُلَّة", {P1}),
    ("كلـــيم", {KILIM, MIRROR}),  # her craft is kilim and textiles
    # alef forms and ى/ي
    ("اسورة", {BRACELET}),
    ("أسورة", {BRACELET}),
    ("مرآة", {MIRROR}),
    ("مراة", {MIRROR}),
    ("على", {KILIM}),
    ("علي", {KILIM}),
    ("والفضة", {BRACELET}),
    # digits
    ("٩٢٥", {BRACELET}),
    ("925", {BRACELET}),
    ("٢٥٠", {P2}),
    ("۲۵۰", {P2}),
    # English, any case
    ("Clay", {P2}),
    ("CLAY", {P2}),
    ("handmade", {P2}),
    ("embroid", {E1, E2, E3}),  # a prefix: the category's English name too
    # category names in both languages (and the artisans' crafts, which share them)
    ("الفخار", {P1, P2, BOX}),
    ("Pottery", {P1, P2, BOX}),
    ("basketry", {S1, S2}),
    ("الحلي", {BRACELET, BAG}),
    ("تطريز", {E1, E2, E3}),
    # governorates in both languages, the oasis in a description
    ("أسوان", {S1, S2}),
    ("اسوان", {S1, S2}),
    ("aswan", {S1, S2}),
    ("القاهرة", {P2, BOX}),
    ("cairo", {P2, BOX}),
    ("الفيوم", {P1}),
    ("مطروح", {E1, E2, E3}),
    ("سيوة", {E1}),
    ("siwa", {E3}),
    # artisans' display names
    ("نادية", {S1, S2}),
    ("ناديه", {S1, S2}),
    ("mona", {P2, BOX}),
    ("HASSAN", {P2, BOX}),
    # two words: both required
    ("حقيبه جلد", {BAG}),
    ("خوص أسوان", {S1, S2}),
    ("embroidery cushion", {E3}),
    ("خوص سوهاج", set()),
    # matching nothing; a village is private and not searchable
    ("قطار", set()),
    ("سهيل", set()),
    ("xyzzy", set()),
]


@pytest.fixture
def shop(make_artisan, make_product):
    """The products of the query table, live and from verified artisans, plus what a buyer
    must never find: a draft and a live product of an artisan no longer verified."""
    categories = {c.slug: c for c in db.session.scalars(sa.select(Category))}
    artisans = {
        key: make_artisan(
            verified=True, display_name=name, governorate=gov, craft=craft, village=village
        )
        for key, (name, gov, craft, village) in ARTISANS.items()
    }
    products = {}
    for title, description, materials, slug, artisan in PRODUCTS:
        product = make_product(
            artisan=artisans[artisan],
            status=ListingStatus.LIVE,
            title=title,
            description=description,
            materials=materials,
        )
        product.category_id = categories[slug].id  # make_product always picks basketry
        products[title] = product
    db.session.commit()
    hidden = make_product(artisan=artisans["nadia"], title="سلة مسودة خوص")
    withdrawn = make_artisan(verified=True, display_name="نادية")
    make_product(artisan=withdrawn, status=ListingStatus.LIVE, title="سلة سحب خوص")
    withdrawn.artisan_profile.verification = VerificationStatus.PENDING
    db.session.commit()
    return products, hidden


def _public() -> sa.Select:
    """What the catalogue's caller passes in: live products of verified artisans."""
    return (
        sa.select(Product)
        .join(ArtisanProfile, ArtisanProfile.id == Product.artisan_id)
        .where(Product.status == ListingStatus.LIVE)
        .where(ArtisanProfile.verification == VerificationStatus.VERIFIED)
    )


def _titles(stmt: sa.Select, query: str) -> list[str]:
    searched, applied = apply_search(stmt, query)
    assert applied
    return [p.title for p in db.session.scalars(searched)]


def test_query_table(shop, subtests):
    """Does every query of the table find exactly its products (on this database)?"""
    assert len(QUERIES) >= 25
    for query, expected in QUERIES:
        with subtests.test(query=query):
            titles = _titles(_public(), query)
            assert len(titles) == len(set(titles))
            assert set(titles) == expected


def test_apply_search_keeps_the_callers_filters(shop):
    """Drafts and products of unverified artisans stay out; without a filter they match."""
    _products, hidden = shop
    found = _titles(_public(), "سلة")
    assert found == [S1]
    everything = _titles(sa.select(Product), "سلة")
    assert set(everything) == {S1, hidden.title, "سلة سحب خوص"}


def test_a_query_with_nothing_to_search_leaves_the_list_alone(shop):
    stmt = _public().order_by(Product.id)
    for query in ("", "   ", "ًٌٍَُِّْ", "ـــ", "،؛؟!?", "و", None):
        same, applied = apply_search(stmt, query)
        assert applied is False
        assert same is stmt


def test_the_query_reaches_the_database_only_as_a_bound_parameter(app):
    query = "' OR 1=1 -- سلة"
    searched, applied = apply_search(_public(), query)
    assert applied
    compiled = searched.compile(db.session.connection())
    assert "1=1" not in compiled.string and "سل" not in compiled.string
    assert any("سله" in str(value) for value in compiled.params.values())


BAD_INPUT = [
    "   ",
    "ًٌٍَُِّ",
    "سلة " * 500,
    "خ" * 2000,
    '"',
    '"""',
    "*",
    "سلة*",
    '"سلة',
    "NEAR",
    "NEAR(سلة خوص, 2)",
    "سلة NEAR خوص",
    "-سلة",
    "- خوص",
    "AND",
    "OR",
    "NOT",
    "سلة AND خوص OR NOT طبق",
    "(",
    ")",
    "(سلة",
    ":",
    "search_text: سلة",
    "search_title: سلة",
    "^سلة",
    "{search_text}: خوص",
    "{search_title search_body}: خوص",
    "' OR 1=1 --",
    "'; DROP TABLE products; --",
    "1' UNION SELECT * FROM users --",
    "\\",
    "%",
    "_%",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "&amp; &lt;",
    "\x00",
    "\u200f\u200e\u202b",
    "🧺🏺",
    "𝕊𝕀𝕎𝔸",
]


def test_bad_input_never_raises(shop):
    for query in BAD_INPUT:
        searched, _applied = apply_search(_public(), query)
        found = db.session.scalars(searched).all()
        assert isinstance(found, list)
        assert all(p.status is ListingStatus.LIVE for p in found)
    # the noise around a real word does not hide it
    assert _titles(_public(), "سلة*") == [S1]
    assert _titles(_public(), '"سلة') == [S1]
    # "and" is a word like any other: "Palm and reed basketry" holds it, "سلة" and "خوص" too
    assert _titles(_public(), "سلة AND خوص") == [S1]
    assert _titles(_public(), "سلة NOT خوص") == []
    assert _titles(_public(), "𝕊𝕀𝕎𝔸") == [E3]  # NFKC


# --- ranking ----------------------------------------------------------------------------


def test_ranked_by_relevance_then_newest(make_artisan, make_product):
    artisan = make_artisan(verified=True, display_name="نور", governorate="GZ", craft="glass")
    words = {"status": ListingStatus.LIVE, "artisan": artisan, "materials": "قماش"}
    once = make_product(
        title="مفرش", description="مفرش طاولة كبير بألوان كثيرة وخيوط متينة", **words
    )
    older = make_product(title="سجادة صلاة", description="سجادة سجادة سجادة", **words)
    newer = make_product(title="سجادة صلاة", description="سجادة سجادة سجادة", **words)
    often = make_product(title="سجادة", description="سجادة سجادة سجادة سجادة سجادة", **words)
    once.description += " سجادة"
    db.session.commit()
    found, _ = apply_search(_public(), "سجادة")
    ids = [p.id for p in db.session.scalars(found)]
    assert ids == [often.id, newer.id, older.id, once.id]


@pytest.mark.parametrize(
    ("query", "titled", "described"),
    [
        ("kilim", "Handwoven Kilim Rug", "Kilim weave, a kilim kilim pattern"),
        ("كليم", "كليم يدوي", "نسج الكليم على طريقة الكليم، كليم أصيل"),
    ],
    ids=["english", "arabic"],
)
def test_a_word_in_the_title_counts_more_than_elsewhere(
    make_artisan, make_product, query, titled, described
):
    """The listing that names the word in its title comes first: above listings that say it
    (three times) only in their description, and above listings whose category and craft
    ("Kilim and textiles", twice) say it; all of them newer than it."""
    potter = make_artisan(verified=True, display_name="هدى", governorate="FYM", craft="pottery")
    weaver = make_artisan(verified=True, display_name="سلمى", governorate="SHG", craft="textiles")
    textiles = db.session.scalar(sa.select(Category).where(Category.slug == "textiles"))
    live = {"status": ListingStatus.LIVE, "materials": "صوف"}
    title = make_product(artisan=potter, title=titled, description="صوف طبيعي", **live)
    description = make_product(artisan=potter, title="سجادة", description=described, **live)
    context = make_product(artisan=weaver, title="بطانية", description="صوف طبيعي", **live)
    context.category_id = textiles.id
    db.session.commit()
    found, _ = apply_search(_public(), query)
    ids = [p.id for p in db.session.scalars(found)]
    assert ids[0] == title.id
    assert set(ids) == {title.id, description.id, context.id}


def test_a_word_in_most_listings_is_ranked_among_the_newest(
    make_artisan, make_product, monkeypatch
):
    """Only the newest RANK_WINDOW matches are scored; older ones follow, newest first. The
    pages asked with few candidates come out the same as the whole order."""
    monkeypatch.setattr(search, "RANK_WINDOW", 3)
    artisan = make_artisan(verified=True)
    words = {"status": ListingStatus.LIVE, "artisan": artisan, "materials": ""}
    best_old = make_product(title="سجادة", description="سجادة سجادة سجادة سجادة", **words)
    old = make_product(title="سجادة صغيرة", description="", **words)
    once = make_product(title="سجادة صغيرة", description="مفرش كبير بألوان كثيرة", **words)
    twice = make_product(title="سجادة", description="سجادة ومفرش كبير", **words)
    best = make_product(title="سجادة", description="سجادة سجادة سجادة", **words)
    found, _ = apply_search(_public(), "سجادة")
    ids = [p.id for p in db.session.scalars(found)]
    # the newest three by relevance, then the two older ones newest first (the oldest, the
    # best match of all, last)
    assert ids == [best.id, twice.id, once.id, old.id, best_old.id]
    for candidates in (1, 2, 3):  # a short first page, asked again, gives the same
        top, _ = apply_search(_public(), "سجادة", candidates=candidates)
        assert [p.id for p in db.session.scalars(top)] == ids[:candidates]
        assert search.is_truncated("سجادة", candidates)
    # The pool comes from the window: five candidates asked for still hold only three.
    assert search.is_truncated("سجادة", 5)
    monkeypatch.setattr(search, "RANK_WINDOW", 5)
    assert not search.is_truncated("سجادة", 5)


# --- keeping the index in step ----------------------------------------------------------


def test_the_index_follows_a_new_title(make_product):
    product = make_product(status=ListingStatus.LIVE, title="سلة خوص", description="")
    assert product.search_title == "سله خوص"
    words = listings.ListingWords(
        title="طبق نحاس",
        description=product.description,
        materials=product.materials,
        category_id=product.category_id,
        size=product.size,
        weight_grams=product.weight_grams,
    )
    terms = listings.ListingTerms(
        price=product.price,
        made_to_order=product.made_to_order,
        stock=product.stock,
        days_to_make=product.days_to_make,
    )
    listings.update(product, words, terms, editor=product.artisan.user)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Product, product.id).search_title == "طبق نحاس"
    assert _titles(sa.select(Product), "نحاس") == ["طبق نحاس"]
    assert _titles(sa.select(Product), "سلة") == []


def test_the_index_follows_her_display_name(make_artisan, make_product):
    artisan = make_artisan(verified=True, display_name="نادية")
    first = make_product(artisan=artisan, status=ListingStatus.LIVE, title="سلة")
    second = make_product(artisan=artisan, title="طبق")
    other = make_product(status=ListingStatus.LIVE, title="شنطة")  # another "نادية"
    assert _titles(sa.select(Product), "نادية")
    artisan.artisan_profile.display_name = "زينب"
    db.session.commit()
    db.session.expire_all()
    assert "زينب" in db.session.get(Product, first.id).search_context.split()
    assert set(_titles(sa.select(Product), "زينب")) == {first.title, second.title}
    assert _titles(sa.select(Product), "نادية") == [other.title]


def test_the_index_follows_her_governorate_and_a_category_rename(make_artisan, make_product):
    artisan = make_artisan(verified=True, governorate="ASN", craft="wood")
    product = make_product(artisan=artisan, status=ListingStatus.LIVE, title="صندوق")
    artisan.artisan_profile.governorate = "LX"
    db.session.commit()
    assert _titles(sa.select(Product), "الأقصر") == ["صندوق"]
    assert _titles(sa.select(Product), "أسوان") == []
    category = product.category
    name_en = category.name_en
    try:
        category.name_en = "Palm fronds"
        db.session.commit()
        assert _titles(sa.select(Product), "fronds") == ["صندوق"]
        assert _titles(sa.select(Product), "reed") == []
    finally:  # categories are seeded and kept between tests on PostgreSQL
        category.name_en = name_en
        db.session.commit()


def test_a_deleted_product_leaves_the_index(make_product):
    product = make_product(title="سلة فريدة")
    listings.delete_draft(product, editor=product.artisan.user)
    db.session.commit()
    assert _titles(sa.select(Product), "فريدة") == []
    make_product(title="سلة فريدة أخرى")
    assert _titles(sa.select(Product), "فريدة") == ["سلة فريدة أخرى"]


def test_a_stock_change_does_not_touch_the_search_text(make_product):
    product = make_product(status=ListingStatus.LIVE, title="سلة")
    with_text = [getattr(product, name) for name in search.SEARCH_COLUMNS]
    product.stock = 7
    db.session.commit()
    assert [getattr(product, name) for name in search.SEARCH_COLUMNS] == with_text
    assert _titles(sa.select(Product), "سلة") == ["سلة"]


def test_reindex_all_fills_rows_written_without_the_orm(make_product):
    product = make_product(title="سلة")
    db.session.execute(
        sa.update(Product.__table__)
        .where(Product.__table__.c.id == product.id)
        .values(title="جرة", search_title="", search_body="")
    )
    db.session.commit()
    assert _titles(sa.select(Product), "جرة") == []
    assert _titles(sa.select(Product), "الملون") == []
    assert search.reindex_all(batch=1) == 1
    db.session.commit()
    assert _titles(sa.select(Product), "جرة") == ["جرة"]
    assert _titles(sa.select(Product), "الملون") == ["جرة"]  # its description, back
    assert search.reindex_all() == 0


# --- the index is used, and Alembic leaves it alone -------------------------------------


def _bulk_products(count: int) -> None:
    """`count` live products in one Core insert (as large seeding does), search text filled."""
    user = User(name="bulk", phone=_unique_phone(), role=Role.ARTISAN)
    profile = ArtisanProfile(
        user=user,
        display_name="منى",
        governorate="ASN",
        village="x",
        craft="pottery",
        verification=VerificationStatus.VERIFIED,
    )
    db.session.add(profile)
    db.session.flush()
    category = db.session.scalar(sa.select(Category).where(Category.slug == "pottery"))
    words = ["سلة", "طبق", "قلة", "شال", "كليم", "إسورة", "vase", "bowl", "جرة", "مفرش"]
    rows = []
    for n in range(count):
        title = f"{words[n % len(words)]} {words[(n * 7) % len(words)]} {n}"
        rows.append(
            {
                "artisan_id": profile.id,
                "category_id": category.id,
                "title": title,
                "price": 10_000,
                "status": ListingStatus.LIVE,
                **search.search_columns_for(
                    title=title,
                    category_ar=category.name_ar,
                    category_en=category.name_en,
                    display_name=profile.display_name,
                    governorate=profile.governorate,
                    craft=profile.craft,
                ),
            }
        )
    db.session.execute(sa.insert(Product), rows)
    db.session.commit()


def test_the_search_uses_the_index(app):
    _bulk_products(2000)
    searched, _ = apply_search(_public().limit(24), "قلة كليم")
    assert len(db.session.scalars(searched).all()) == 24
    searched, _ = apply_search(_public().limit(24), "قلة كليم 1232")
    assert [p.title for p in db.session.scalars(searched)] == ["قلة كليم 1232"]
    if db.engine.dialect.name == "sqlite":
        plan = query_plan(searched, "EXPLAIN QUERY PLAN ")
        assert "VIRTUAL TABLE INDEX" in plan and "product_search" in plan, plan
    else:
        # Rows inserted after CREATE INDEX wait in GIN's pending list, which the planner
        # prices high until a VACUUM (or this) merges it: do what autovacuum would.
        db.session.execute(sa.text(f"SELECT gin_clean_pending_list('{search.PG_VECTOR_INDEX}')"))
        db.session.execute(sa.text("ANALYZE products"))
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = query_plan(searched, "EXPLAIN ")
        assert search.PG_VECTOR_INDEX in plan, plan
    db.session.rollback()


def test_the_index_is_hidden_from_autogenerate(app):
    """compare_metadata with the hook (as migrations/env.py sets it) finds nothing; without
    it, exactly the search index objects show (so the hook hides nothing else)."""
    with db.engine.connect() as conn:
        hooked = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": search.include_name}
        )
        assert compare_metadata(hooked, db.metadata) == []
        bare = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(bare, db.metadata)
    names = set()
    for diff in diffs:
        if diff[0] == "remove_table":
            names.add(diff[1].name)
        elif diff[0] == "remove_column":
            names.add(f"{diff[2]}.{diff[3].name}")
        elif diff[0] == "remove_index":
            names.add(diff[1].name)
        else:
            names.add(repr(diff))
    if db.engine.dialect.name == "sqlite":
        expected = {f"product_search{s}" for s in ("", "_data", "_idx", "_docsize", "_config")}
    else:
        expected = {"products.search_vector", search.PG_VECTOR_INDEX}
    assert names == expected


# --- the migration: backfill, index, downgrade ------------------------------------------


@pytest.fixture
def empty_database(database_url, tmp_path):
    """An empty database of the same kind (PostgreSQL: a schema of its own)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    schema = f"search_migration_{os.getpid()}"
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


def _insert_old_rows(conn) -> None:
    """A product, as revision 87eb5752593e knows them (no search_text yet)."""
    now = "2026-01-01 00:00:00+00:00"
    conn.execute(
        sa.text(
            "INSERT INTO users (id, name, phone, role, is_active, session_nonce, created_at)"
            " VALUES (1, 'x', '+201000000001', 'artisan', true, 'n', :now)"
        ),
        {"now": now},
    )
    conn.execute(
        sa.text(
            "INSERT INTO artisan_profiles (id, user_id, display_name, governorate, village,"
            " craft, story, verification, created_at, decline_reason)"
            " VALUES (1, 1, 'أم هاشم', 'ASN', 'سرية', 'pottery', '', 'verified', :now, '')"
        ),
        {"now": now},
    )
    for n, title in enumerate(["قُلّة فخار", "إناء كبير"], start=1):
        conn.execute(
            sa.text(
                "INSERT INTO products (id, artisan_id, category_id, title, description,"
                " materials, price, currency, made_to_order, stock, size, status,"
                " rejection_note, created_at, updated_at) VALUES (:id, 1, (SELECT id FROM"
                " categories WHERE slug = 'pottery'), :title, 'صنعت بالفيوم', 'طين', 5000,"
                " 'EGP', false, 1, '', 'live', '', :now, :now)"
            ),
            {"id": n, "title": title, "now": now},
        )
    conn.execute(
        sa.text(
            "INSERT INTO product_photos (product_id, position, alt_text, derivatives, width,"
            " height, created_at) VALUES (1, 0, '', '[]', 1, 1, :now)"
        ),
        {"now": now},
    )


def _found_by_search_text(word: str) -> set[int]:
    """The ids the index over products.search_text (as it was before the weights revision)
    finds for one normalised word, asked in raw SQL: the app asks for the new columns."""
    if db.engine.dialect.name == "sqlite":
        sql = "SELECT rowid FROM product_search WHERE product_search MATCH :query"
        query = search.fts5_query([word])
    else:
        sql = "SELECT id FROM products WHERE search_vector @@ to_tsquery('simple', :query)"
        query = search.tsquery_text([word])
    with db.engine.connect() as conn:
        return set(conn.scalars(sa.text(sql), {"query": query}))


def test_the_migration_backfills_indexes_and_downgrades(empty_database, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = create_app(_settings(empty_database, str(tmp_path)))
    with app.app_context():
        try:
            upgrade(revision=BEFORE_SEARCH)
            with db.engine.begin() as conn:
                _insert_old_rows(conn)
            upgrade()
            product = db.session.get(Product, 1)
            expected = search.search_columns_for(
                title="قُلّة فخار",
                description="صنعت بالفيوم",
                materials="طين",
                category_ar=product.category.name_ar,
                category_en=product.category.name_en,
                display_name="أم هاشم",
                governorate="ASN",
                craft="pottery",
            )
            assert {name: getattr(product, name) for name in search.SEARCH_COLUMNS} == expected
            assert _titles(sa.select(Product), "القلة") == ["قُلّة فخار"]
            assert set(_titles(sa.select(Product), "فيوم أسوان")) == {"قُلّة فخار", "إناء كبير"}
            assert _titles(sa.select(Product), "سرية") == []  # her village
            # the title outweighs the category ("فخار" in both for one, the category alone
            # for the other, which is newer)
            assert _titles(sa.select(Product), "فخار") == ["قُلّة فخار", "إناء كبير"]
            db.session.commit()

            downgrade(revision=BEFORE_WEIGHTS)  # one text again, indexed, its triggers back
            columns = {c["name"] for c in sa.inspect(db.engine).get_columns("products")}
            assert "search_text" in columns and not columns & set(search.SEARCH_COLUMNS)
            with db.engine.begin() as conn:
                text = conn.scalar(sa.text("SELECT search_text FROM products WHERE id = 1"))
                assert text == " ".join(expected.values())
                conn.execute(sa.text("UPDATE products SET search_text = 'جره' WHERE id = 2"))
            assert _found_by_search_text("قله") == {1}
            assert _found_by_search_text("فيوم") == {1}
            assert _found_by_search_text("جره") == {2}

            downgrade(revision=BEFORE_SEARCH)
            inspector = sa.inspect(db.engine)
            columns = {c["name"] for c in inspector.get_columns("products")}
            assert not columns & {"search_text", "search_vector", *search.SEARCH_COLUMNS}
            assert not [t for t in inspector.get_table_names() if t.startswith("product_search")]
            with db.engine.connect() as conn:
                # nothing lost on the way down (no table copy emptied the photos)
                assert conn.scalar(sa.text("SELECT count(*) FROM products")) == 2
                assert conn.scalar(sa.text("SELECT count(*) FROM product_photos")) == 1

            upgrade()
            assert set(_titles(sa.select(Product), "إناء")) == {"إناء كبير"}
            db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()
