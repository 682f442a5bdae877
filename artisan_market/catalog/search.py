"""Search in Arabic and English: one normaliser, denormalised texts, and the query side.

    normalise(text)           the ONE normaliser, used when indexing and when querying
    search_columns_for(...)   the texts a product is indexed under (already normalised)
    apply_search(stmt, q)     restrict and order a select over Product by a buyer's query

Every product carries its words in three normalised parts, which weigh differently in the
ranking (TITLE_WEIGHT, BODY_WEIGHT, CONTEXT_WEIGHT):
    search_title     its title
    search_body      its description and materials
    search_context   its category's names in Arabic and English, the artisan's display name,
                     her governorate's and craft's names in Arabic and English
A `before_flush` listener (below) keeps them in step with the ORM; code that writes
products with Core inserts (bulk seeding) must fill them with `search_columns_for`.

The index lives in the migrations (revisions 378708781110, c4e7a1d25b90), not in the models:
- SQLite: an FTS5 external-content table `product_search` with the three parts as its
  columns, kept in step by triggers on products; ranking by bm25() with column weights.
- PostgreSQL: a generated column products.search_vector, the parts' to_tsvector('simple', …)
  labelled A, B and C, with a GIN index; ranking by ts_rank() with weights for the labels.
  'simple' does no stemming and has no stop words: the normaliser has already done the
  Arabic work, so both engines see the same words.
Both engines split the normalised text at spaces only (it holds nothing but letters, digits
and single spaces), and a query's words may be found in any of the parts, so the same query
finds the same products on both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from flask import has_app_context
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from artisan_market.accounts.models import ArtisanProfile
from artisan_market.catalog.models import Category, Product
from artisan_market.database import dialect_name
from artisan_market.egypt import CRAFTS, GOVERNORATES

# ---------------------------------------------------------------------------------------
# The normaliser. Revision 378708781110 holds a copy (revisions never import app code) and
# tests/catalog/test_search.py checks that the copy still agrees with this one.
# ---------------------------------------------------------------------------------------

_CHARACTERS = {
    # Arabic-Indic and Persian (Extended Arabic-Indic) digits are the Latin ones.
    **{0x0660 + n: str(n) for n in range(10)},
    **{0x06F0 + n: str(n) for n in range(10)},
    # Harakat (fathatan … sukun, madda/hamza above and below, …), superscript alef,
    # Quranic annotation marks, and tatweel: removed.
    **dict.fromkeys(range(0x064B, 0x0660)),
    0x0670: None,
    **dict.fromkeys(range(0x06D6, 0x06EE)),
    0x0640: None,
    # Alef with hamza above/below, with madda, and wasla: bare alef.
    0x0623: "ا",
    0x0625: "ا",
    0x0622: "ا",
    0x0671: "ا",
    0x0649: "ي",  # alef maqsura → yeh (على / علي)
    0x0629: "ه",  # teh marbuta → heh (سلة / سله)
    # Hamza on a seat → the bare seat. Egyptian everyday writing drops the hamza from its
    # seat (قايمة for قائمة, موسسة for مؤسسة); folding both sides finds either spelling, and
    # almost no pair of words differs only by it. (مسئول/مسؤول stay two spellings: they
    # differ in the seat itself.)
    0x0624: "و",
    0x0626: "ي",
    # Persian keyboards' yeh and kaf, which look the same as the Arabic letters.
    0x06CC: "ي",
    0x06A9: "ك",
}
_TRANSLATION = str.maketrans(_CHARACTERS)
# Anything but a letter or a digit (punctuation of both scripts, symbols, "_", spaces,
# non-Arabic combining marks NFKC left alone) separates words.
_SEPARATORS = re.compile(r"[\W_]+")
# Longest first; a prefix is stripped only when at least 2 letters remain (MIN_STEM), so
# short words that merely begin with these letters (الي from إلى, والد) stay whole.
PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال")
MIN_STEM = 2


def _strip_prefix(word: str) -> str:
    for prefix in PREFIXES:
        if word.startswith(prefix):
            if len(word) - len(prefix) >= MIN_STEM:
                return word[len(prefix) :]
            return word  # a short word: keep it whole, try no shorter prefix
    return word


def normalise(text: str) -> str:
    """Text as both the index and the queries see it: words separated by single spaces.

    NFKC; Arabic-Indic/Persian digits → Latin; diacritics and tatweel removed; أ إ آ ٱ → ا,
    ى → ي, ة → ه, ؤ → و, ئ → ي; Latin case folded; anything but letters and digits → space;
    then each word loses one leading article/prefix (وال بال فال كال لل ال, longest first)
    when at least 2 letters remain. Words, not stems: nothing else is removed.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLATION)
    return " ".join(_strip_prefix(word) for word in _SEPARATORS.sub(" ", text).split())


# ---------------------------------------------------------------------------------------
# What a product is indexed under.
# ---------------------------------------------------------------------------------------

_LOCALES = ("ar", "en")
_names_cache: dict[tuple[str, str], str] = {}


def _names(kind: str, table: Mapping[str, object], code: str | None) -> str:
    """A governorate's or craft's name in Arabic and in English ("أسوان Aswan")."""
    if not code:
        return ""
    key = (kind, code)
    if key in _names_cache:
        return _names_cache[key]
    name = table.get(code, code)
    words = []
    for locale in _LOCALES:
        with force_locale(locale):
            words.append(str(name))
    joined = " ".join(dict.fromkeys(words))
    if has_app_context():  # outside one, lazy strings are not translated: do not cache
        _names_cache[key] = joined
    return joined


SEARCH_COLUMNS = ("search_title", "search_body", "search_context")


def search_columns_for(
    *,
    title: str = "",
    description: str = "",
    materials: str = "",
    category_ar: str = "",
    category_en: str = "",
    display_name: str = "",
    governorate: str | None = None,
    craft: str | None = None,
) -> dict[str, str]:
    """The normalised texts a product is found by, by column name (for Core inserts and
    updates; the ORM does it itself)."""
    context = [
        category_ar,
        category_en,
        display_name,
        _names("governorate", GOVERNORATES, governorate),
        _names("craft", CRAFTS, craft),
    ]
    return {
        "search_title": normalise(title),
        "search_body": normalise(" ".join(p for p in (description, materials) if p)),
        "search_context": normalise(" ".join(p for p in context if p)),
    }


# ---------------------------------------------------------------------------------------
# Keeping the search columns in step: one session listener for every session.
# ---------------------------------------------------------------------------------------

_PRODUCT_FIELDS = ("title", "description", "materials", "category_id", "category")
_PRODUCT_OWNER = ("artisan_id", "artisan")
_ARTISAN_FIELDS = ("display_name", "governorate", "craft")
_CATEGORY_FIELDS = ("name_ar", "name_en")


def _changed(obj, names: Iterable[str]) -> bool:
    attrs = sa.inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _related(session: Session, obj, relationship: str, foreign_key: str, cls):
    """The object `relationship` points to now, whether it was set by object or by id."""
    history = sa.inspect(obj).attrs[relationship].history
    if history.added:  # set through the relationship in this unit of work
        return history.added[0]
    key = getattr(obj, foreign_key)
    return session.get(cls, key) if key is not None else None  # identity map first


def _index_product(session: Session, product: Product) -> None:
    """Set the product's search columns from its own words and its artisan's and category's."""
    artisan = _related(session, product, "artisan", "artisan_id", ArtisanProfile)
    category = _related(session, product, "category", "category_id", Category)
    columns = search_columns_for(
        title=product.title or "",
        description=product.description or "",
        materials=product.materials or "",
        category_ar=category.name_ar if category else "",
        category_en=category.name_en if category else "",
        display_name=artisan.display_name if artisan else "",
        governorate=artisan.governorate if artisan else None,
        craft=artisan.craft if artisan else None,
    )
    for name, text in columns.items():
        if getattr(product, name) != text:  # the same value set again would still be written
            setattr(product, name, text)


def _keep_search_text(session: Session, _flush_context, _instances) -> None:
    products: dict[int, Product] = {}
    artisan_ids: set[int] = set()
    category_ids: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Product):
            products[id(obj)] = obj
    for obj in session.dirty:
        if isinstance(obj, Product):
            if _changed(obj, _PRODUCT_FIELDS + _PRODUCT_OWNER):
                products[id(obj)] = obj
        elif isinstance(obj, ArtisanProfile):
            if obj.id is not None and _changed(obj, _ARTISAN_FIELDS):
                artisan_ids.add(obj.id)
        elif isinstance(obj, Category) and obj.id is not None and _changed(obj, _CATEGORY_FIELDS):
            category_ids.add(obj.id)
    with session.no_autoflush:
        if artisan_ids or category_ids:
            # Her products (or the category's), in one query; rare: a rename.
            affected = session.scalars(
                sa.select(Product).where(
                    sa.or_(
                        Product.artisan_id.in_(artisan_ids),
                        Product.category_id.in_(category_ids),
                    )
                )
            )
            for product in affected:
                if product not in session.deleted:
                    products[id(product)] = product
        for product in products.values():
            _index_product(session, product)


def init_app(app) -> None:
    """Keep products' search text in step with every flush (the session class is shared by
    every app: hooked once)."""
    from artisan_market.extensions import db

    if not event.contains(db.session, "before_flush", _keep_search_text):
        event.listen(db.session, "before_flush", _keep_search_text)


def reindex_all(batch: int = 1000) -> int:
    """Recompute the search columns of every product in SQL batches; returns how many
    products changed.

    For rows written without the ORM (Core bulk inserts) or a migration applied as SQL
    (`flask db upgrade --sql` cannot backfill). The index follows through its triggers
    (SQLite) or the generated column (PostgreSQL). The caller commits.
    """
    from artisan_market.extensions import db

    products = Product.__table__
    columns = (
        products.c.id,
        products.c.title,
        products.c.description,
        products.c.materials,
        *(products.c[name] for name in SEARCH_COLUMNS),
        Category.name_ar,
        Category.name_en,
        ArtisanProfile.display_name,
        ArtisanProfile.governorate,
        ArtisanProfile.craft,
    )
    update = (
        sa.update(products)
        .where(products.c.id == sa.bindparam("product_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in SEARCH_COLUMNS})
    )
    after, changed = 0, 0
    while True:
        rows = db.session.execute(
            sa.select(*columns)
            .join(ArtisanProfile, ArtisanProfile.id == products.c.artisan_id)
            .outerjoin(Category, Category.id == products.c.category_id)
            .where(products.c.id > after)
            .order_by(products.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        after = rows[-1].id
        stale = []
        for row in rows:
            texts = search_columns_for(
                title=row.title,
                description=row.description,
                materials=row.materials,
                category_ar=row.name_ar or "",
                category_en=row.name_en or "",
                display_name=row.display_name,
                governorate=row.governorate,
                craft=row.craft,
            )
            if any(text != getattr(row, name) for name, text in texts.items()):
                new = {f"new_{name}": text for name, text in texts.items()}
                stale.append({"product_id": row.id, **new})
        if stale:
            db.session.execute(update, stale)
            changed += len(stale)


# ---------------------------------------------------------------------------------------
# The query side.
# ---------------------------------------------------------------------------------------

# A query longer than this is cut before normalising, and only its first words are used:
# no buyer types more, and it bounds the work a pasted essay can cause.
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
# The newest RANK_WINDOW matches (the highest ids) are ranked by relevance; older matches
# follow them, newest first. bm25() and ts_rank() cost the same for every match they
# score, and a word that is in most listings ("يدوي", handmade, is in nearly all) would
# have 100,000 scored to show 24 (65 ms on SQLite). A query that matches fewer listings
# than this (nearly every real query) is ranked whole.
RANK_WINDOW = 5000
# How much a word counts where it is found: in the title, in the description or materials,
# in the category's, the artisan's, her governorate's or her craft's names. A listing that
# names the word in its title is about it; one whose category or craft holds the word is
# only near it ("kilim" is in every textile listing's category, "Kilim and textiles").
# SQLite: bm25()'s column weights, which multiply each occurrence, so a title outweighs a
# word said five times in a description. PostgreSQL: ts_rank()'s weights for the labels A,
# B and C, in the same proportions; ts_rank counts repeats less and less (1 + 1/4 + 1/9 …),
# so there a one-word query's title outweighs any number of repeats elsewhere.
TITLE_WEIGHT, BODY_WEIGHT, CONTEXT_WEIGHT = 10.0, 2.0, 1.0
# ts_rank's weights for the labels D, C, B, A, at most 1 each (D is not used: every part has
# a label of its own).
_LABEL_WEIGHTS = (CONTEXT_WEIGHT, CONTEXT_WEIGHT, BODY_WEIGHT, TITLE_WEIGHT)
_TS_RANK_WEIGHTS = "{" + ",".join(f"{w / TITLE_WEIGHT:g}" for w in _LABEL_WEIGHTS) + "}"

# The index objects the migration creates and the models do not describe (for Alembic's
# `include_name` hook, so autogenerate and compare_metadata leave them alone).
FTS_TABLE = "product_search"
PG_VECTOR_COLUMN = "search_vector"
PG_VECTOR_INDEX = "ix_products_search_vector"


def query_words(query: str | None) -> list[str]:
    """The normalised words of a buyer's query, at most MAX_QUERY_WORDS, without repeats.

    One-character words are dropped: a lone "و" typed between two words, or the first
    keystroke of live search, would otherwise require or match almost anything.
    """
    if not query:
        return []
    words = normalise(str(query)[:MAX_QUERY_CHARS]).split()
    words = [w for w in dict.fromkeys(words) if len(w) > 1]
    return words[:MAX_QUERY_WORDS]


def fts5_query(words: Iterable[str]) -> str:
    """`"w1"* "w2"*`: every word a quoted prefix term, all of them required (implicit AND)."""
    return " ".join('"{}"*'.format(w.replace('"', '""')) for w in words)


def tsquery_text(words: Iterable[str]) -> str:
    """`'w1':* & 'w2':*` for to_tsquery('simple', …): quoted prefix lexemes, all required."""
    quoted = ("'{}'".format(w.replace("\\", "\\\\").replace("'", "''")) for w in words)
    return " & ".join(f"{q}:*" for q in quoted)


def include_name(name: str | None, type_: str, parent_names: Mapping) -> bool:
    """Alembic `include_name` hook: hide the search index, which only the migration knows."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)  # FTS5's table and its shadow tables
    if type_ == "column":
        return not (name == PG_VECTOR_COLUMN and parent_names.get("table_name") == "products")
    if type_ == "index":
        return name != PG_VECTOR_INDEX
    return True


def apply_search(
    stmt: sa.Select, query: str | None, *, candidates: int | None = None, ranked: bool = True
) -> tuple[sa.Select, bool]:
    """Restrict `stmt` (a select over Product, already filtered) to products matching `query`,
    ordered by relevance, then newest. Returns (stmt, whether a search was applied).

    With nothing to search for (empty after normalising), `stmt` comes back unchanged with
    False: show the unfiltered list. The query reaches the database only as a bound
    parameter built from normalised words (letters and digits), never as SQL.
    Apply limit/offset after this call; any ORDER BY of `stmt` is replaced.

    Relevance is bm25 (SQLite) or ts_rank (PostgreSQL) among the newest RANK_WINDOW
    matches; older matches come after them, newest first. "Newest" is the highest id,
    throughout (see `_in_order`).

    With `candidates`, only the best-ranked `candidates` matches are considered: ranking a
    word found in a tenth of the catalogue is quick, checking every match against the
    caller's filters is not. The first pages come out the same as without it; a page that
    comes back short must be asked again without it (`is_truncated` says when).

    With `ranked=False`, every match and no order at all: for a caller that sorts by
    something else (price), scoring would be work thrown away (a word in every listing:
    170 ms ranked, a few ms not).
    """
    words = query_words(query)
    if not words:
        return stmt, False
    if not ranked:
        return stmt.where(Product.id.in_(_matches(words))), True
    if candidates is not None:
        top = _best_matches(words, candidates)
        stmt = stmt.join(top, top.c.id == Product.id)
        return stmt.order_by(None).order_by(*_in_order(top.c.score, Product.id)), True
    # Every match: those in the ranking window by their score, then the others.
    ranked = _ranked_window(words)
    stmt = stmt.join(ranked, ranked.c.id == Product.id, isouter=True).where(
        Product.id.in_(_matches(words))
    )
    return stmt.order_by(None).order_by(*_in_order(ranked.c.score, Product.id)), True


def _in_order(score: sa.ColumnElement, id_: sa.ColumnElement) -> tuple[sa.ColumnElement, ...]:
    """The one order of search results, for the pool of best matches and for the pages
    alike: best score first, then newest by id; no score (outside the ranking window) last.

    By id, not created_at: ids are unique, so this is a total order, and the pool cut in it
    is exactly the beginning of the pages' order, which is what lets a page come from the
    pool. created_at is neither unique nor in step with ids (imports, back-dated
    listings): the pool cut by one order and the pages sorted by the other lost top
    matches and showed others twice. The id is also what the window is chosen by (FTS5
    walks rowids, PostgreSQL the primary key) and what the shop's "newest" means.

    NULLS LAST rather than a "score IS NULL" key: ordered by columns it returns, the pool
    hands its order on to the page, and PostgreSQL then looks up the page's 25 listings
    instead of all 1,000 candidates to sort them.
    """
    return score.asc().nulls_last(), id_.desc()


def _fts5_match(words: list[str]):
    """`product_search MATCH :query` (SQLite), the query a bound parameter."""
    return sa.literal_column(FTS_TABLE).op("MATCH")(sa.literal(fts5_query(words), sa.Text))


def _matched(words: list[str]) -> tuple[sa.ColumnElement, sa.ColumnElement, sa.ColumnElement]:
    """(id, condition, score) over the index, in a FROM of its own; lower score is better.

    SQLite: the FTS5 table, bm25() with the column weights. PostgreSQL: products under
    another name (so a subquery never correlates with the caller's products), its tsvector,
    -ts_rank() with the label weights.
    """
    if dialect_name() == "postgresql":
        matched = Product.__table__.alias("matched")
        vector = sa.literal_column(f"matched.{PG_VECTOR_COLUMN}")
        tsquery = sa.func.to_tsquery(
            sa.literal_column("'simple'::regconfig"),
            sa.literal(tsquery_text(words), sa.Text),  # a bound parameter
        )
        weights = sa.literal_column(f"'{_TS_RANK_WEIGHTS}'::float4[]")
        score = -sa.func.ts_rank(weights, vector, tsquery)
        return matched.c.id, vector.op("@@")(tsquery), score
    fts = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer))
    weights = (sa.literal_column(repr(w)) for w in (TITLE_WEIGHT, BODY_WEIGHT, CONTEXT_WEIGHT))
    return fts.c.rowid, _fts5_match(words), sa.func.bm25(sa.literal_column(FTS_TABLE), *weights)


def _matches(words: list[str]) -> sa.Select:
    """The ids of every product matching `words`."""
    id_, condition, _score = _matched(words)
    return sa.select(id_).where(condition)


def _ranked_window(words: list[str]) -> sa.Subquery:
    """(id, score) of the newest RANK_WINDOW matches by id; lower score is better.

    FTS5 walks its matches by rowid, newest first, and scores only the rows it returns;
    PostgreSQL walks the primary key backwards (or sorts a rare word's few matches) and
    reads the tsvector of those rows only. Scoring every match of a word that is in
    nearly every listing took 65 ms on SQLite and 50 on PostgreSQL; the window, 2 to 10.
    """
    id_, condition, score = _matched(words)
    return (
        sa.select(id_.label("id"), score.label("score"))
        .where(condition)
        .order_by(id_.desc())
        .limit(RANK_WINDOW)
        .subquery("ranked")
    )


def _best_matches(words: list[str], limit: int) -> sa.Subquery:
    """(id, score) of the `limit` best-ranked matches, best first."""
    ranked = _ranked_window(words)
    best = sa.select(ranked.c.id, ranked.c.score).order_by(*_in_order(ranked.c.score, ranked.c.id))
    return best.limit(limit).subquery("best_matches")


def is_truncated(query: str | None, candidates: int) -> bool:
    """Whether the pool of `candidates` best matches may leave out matches of `query` (so a
    short page may be missing matches ranked lower). One COUNT over the index: no ranking.

    The pool is drawn from the ranking window, so it never holds more than RANK_WINDOW
    matches, however many candidates were asked for: a deep page (candidates above the
    window) of a query with a few more matches than the window would otherwise come back
    short and never be asked again.
    """
    from artisan_market.extensions import db

    words = query_words(query)
    if not words:
        return False
    pool = min(candidates, RANK_WINDOW)
    matches = _matches(words)
    count = sa.select(sa.func.count()).select_from(matches.limit(pool + 1).subquery())
    return db.session.scalar(count) > pool
