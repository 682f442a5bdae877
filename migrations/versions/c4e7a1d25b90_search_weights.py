"""search: the title, the description and the context weigh differently

Revision ID: c4e7a1d25b90
Revises: 9f3b2c61d0a4
Create Date: 2026-12-03 22:30:00.000000

products.search_text (everything a listing is found by, in one normalised text) becomes three
normalised parts, so that ranking can tell where a word was found: a word in the title weighs
more than in the description, which weighs more than in the category, artisan, governorate or
craft names ("kilim" is in every textile listing's category and craft):

    search_title     normalise(title)
    search_body      normalise(description, materials)
    search_context   normalise(category names, the artisan's display name, governorate and
                     craft names in Arabic and English)

The app keeps them in step (artisan_market/catalog/search.py); this revision adds them, fills
them for existing rows, drops search_text, and rebuilds the index over them (which the models
do not describe; Alembic's autogenerate ignores it: see search.include_name):

- SQLite: the FTS5 external-content table `product_search` gets the three parts as columns
  (bm25() weighs each column), with the prefix indexes of revision 9f3b2c61d0a4, and the
  triggers of revision 378708781110 follow the new columns.
- PostgreSQL: search_vector = setweight(to_tsvector('simple', search_title), 'A') ||
  setweight(…search_body…, 'B') || setweight(…search_context…, 'C'), stored and generated,
  with its GIN index; ts_rank() weighs each label.

The index is dropped before the backfill, so that filling 100,000 rows does not update it row
by row, and built once after. Under `flask db upgrade --sql` nothing is filled: run
catalog.search.reindex_all() after applying the SQL (the downgrade cannot be filled then).
"""
import re
import unicodedata

from alembic import context, op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e7a1d25b90'
down_revision = '9f3b2c61d0a4'
branch_labels = None
depends_on = None


# ---------------------------------------------------------------------------------------
# Copied from artisan_market/catalog/search.py and artisan_market/egypt.py (with its Arabic
# translations) when this revision was written: a revision never imports app code, so later
# changes there cannot rewrite history here. tests/catalog/test_search.py checks the copy.
# ---------------------------------------------------------------------------------------

_CHARACTERS = {
    **{0x0660 + n: str(n) for n in range(10)},
    **{0x06F0 + n: str(n) for n in range(10)},
    **dict.fromkeys(range(0x064B, 0x0660)),
    0x0670: None,
    **dict.fromkeys(range(0x06D6, 0x06EE)),
    0x0640: None,
    0x0623: "ا",
    0x0625: "ا",
    0x0622: "ا",
    0x0671: "ا",
    0x0649: "ي",
    0x0629: "ه",
    0x0624: "و",
    0x0626: "ي",
    0x06CC: "ي",
    0x06A9: "ك",
}
_TRANSLATION = str.maketrans(_CHARACTERS)
_SEPARATORS = re.compile(r"[\W_]+")
PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال")
MIN_STEM = 2


def _strip_prefix(word):
    for prefix in PREFIXES:
        if word.startswith(prefix):
            if len(word) - len(prefix) >= MIN_STEM:
                return word[len(prefix):]
            return word
    return word


def normalise(text):
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLATION)
    return " ".join(_strip_prefix(word) for word in _SEPARATORS.sub(" ", text).split())


GOVERNORATES = {
    "C": ("القاهرة", "Cairo"),
    "GZ": ("الجيزة", "Giza"),
    "ALX": ("الإسكندرية", "Alexandria"),
    "KB": ("القليوبية", "Qalyubia"),
    "DK": ("الدقهلية", "Dakahlia"),
    "SHR": ("الشرقية", "Sharqia"),
    "GH": ("الغربية", "Gharbia"),
    "MNF": ("المنوفية", "Monufia"),
    "BH": ("البحيرة", "Beheira"),
    "KFS": ("كفر الشيخ", "Kafr El Sheikh"),
    "DT": ("دمياط", "Damietta"),
    "PTS": ("بورسعيد", "Port Said"),
    "IS": ("الإسماعيلية", "Ismailia"),
    "SUZ": ("السويس", "Suez"),
    "SIN": ("شمال سيناء", "North Sinai"),
    "JS": ("جنوب سيناء", "South Sinai"),
    "FYM": ("الفيوم", "Faiyum"),
    "BNS": ("بني سويف", "Beni Suef"),
    "MN": ("المنيا", "Minya"),
    "AST": ("أسيوط", "Asyut"),
    "SHG": ("سوهاج", "Sohag"),
    "KN": ("قنا", "Qena"),
    "LX": ("الأقصر", "Luxor"),
    "ASN": ("أسوان", "Aswan"),
    "BA": ("البحر الأحمر", "Red Sea"),
    "WAD": ("الوادي الجديد", "New Valley"),
    "MT": ("مطروح", "Matrouh"),
}
CRAFTS = {
    "pottery": ("الفخار", "Pottery"),
    "embroidery": ("التطريز", "Embroidery"),
    "textiles": ("الكليم والمنسوجات", "Kilim and textiles"),
    "basketry": ("الخوص والسمار", "Palm and reed basketry"),
    "jewellery": ("الحُلي", "Jewellery"),
    "leather": ("الجلود", "Leather"),
    "wood": ("الخشب", "Wood"),
    "glass": ("الزجاج", "Glass"),
    "other": ("حرف أخرى", "Other crafts"),
}


def _names(table, code):
    if not code:
        return ""
    return " ".join(dict.fromkeys(table.get(code, (code, code))))


def _joined(*parts):
    return normalise(" ".join(p for p in parts if p))


def search_columns_for(row):
    """The three parts, as the app computes them (search.search_columns_for)."""
    return {
        "search_title": normalise(row.title),
        "search_body": _joined(row.description, row.materials),
        "search_context": _joined(
            row.name_ar,
            row.name_en,
            row.display_name,
            _names(GOVERNORATES, row.governorate),
            _names(CRAFTS, row.craft),
        ),
    }


def search_text_for(row):
    """The one text of revision 378708781110, for the downgrade."""
    return _joined(
        row.title,
        row.description,
        row.materials,
        row.name_ar,
        row.name_en,
        row.display_name,
        _names(GOVERNORATES, row.governorate),
        _names(CRAFTS, row.craft),
    )


# ---------------------------------------------------------------------------------------

COLUMNS = ("search_title", "search_body", "search_context")
FTS_OPTIONS = (
    "content='products', content_rowid='id', tokenize='unicode61 remove_diacritics 0',"
    " prefix='2 3 4'"
)
TRIGGERS = (
    "product_search_after_insert",
    "product_search_after_delete",
    "product_search_after_update",
)


def _sqlite_index(columns):
    """The FTS5 table over `columns` of products, its triggers, and its first build."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE product_search USING fts5({names}, {FTS_OPTIONS})",
        "CREATE TRIGGER product_search_after_insert AFTER INSERT ON products BEGIN\n"
        f"    INSERT INTO product_search (rowid, {names}) VALUES (new.id, {new});\n"
        "END",
        "CREATE TRIGGER product_search_after_delete AFTER DELETE ON products BEGIN\n"
        f"    INSERT INTO product_search (product_search, rowid, {names})\n"
        f"    VALUES ('delete', old.id, {old});\n"
        "END",
        # After a change of the indexed text only: stock and price updates do not touch it.
        f"CREATE TRIGGER product_search_after_update AFTER UPDATE OF {names} ON products BEGIN\n"
        f"    INSERT INTO product_search (product_search, rowid, {names})\n"
        f"    VALUES ('delete', old.id, {old});\n"
        f"    INSERT INTO product_search (rowid, {names}) VALUES (new.id, {new});\n"
        "END",
        "INSERT INTO product_search (product_search) VALUES ('rebuild')",
    ]


def _drop_index(dialect):
    if dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_products_search_vector")
        op.execute("ALTER TABLE products DROP COLUMN IF EXISTS search_vector")
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS product_search")


def _create_index(dialect, columns):
    if dialect == 'postgresql':
        if len(columns) == 1:
            vector = f"to_tsvector('simple'::regconfig, {columns[0]})"
        else:
            vector = " || ".join(
                f"setweight(to_tsvector('simple'::regconfig, {column}), '{label}')"
                for column, label in zip(columns, "ABC")
            )
        op.execute(
            f"ALTER TABLE products ADD COLUMN search_vector tsvector"
            f" GENERATED ALWAYS AS ({vector}) STORED"
        )
        op.execute("CREATE INDEX ix_products_search_vector ON products USING gin (search_vector)")
        # The new column has no statistics: the planner then guesses a few thousand matches
        # for a word in every listing, and scores all 100,000 of them (200 ms) instead of
        # walking the newest first (20 ms), until autovacuum gets round to it.
        op.execute("ANALYZE products")
        return
    for statement in _sqlite_index(columns):
        op.execute(statement)


def _drop_columns(dialect, columns):
    for column in columns:
        if dialect == 'postgresql':
            op.drop_column('products', column)
        else:
            # SQLite ≥ 3.35 drops a column in place. A batch "move and copy" would DROP TABLE
            # products with foreign keys on, and ON DELETE CASCADE would empty product_photos.
            op.execute(f"ALTER TABLE products DROP COLUMN {column}")


BATCH = 1000


def _backfill(columns_for):
    """Fill the columns `columns_for(row)` returns, for the rows that exist, in batches of
    ids (not in --sql mode)."""
    if context.is_offline_mode():
        return
    bind = op.get_bind()
    select = sa.text(
        "SELECT p.id, p.title, p.description, p.materials, c.name_ar, c.name_en,"
        " a.display_name, a.governorate, a.craft"
        " FROM products p JOIN artisan_profiles a ON a.id = p.artisan_id"
        " LEFT JOIN categories c ON c.id = p.category_id"
        " WHERE p.id > :after ORDER BY p.id LIMIT :batch"
    )
    update = None
    after = 0
    while True:
        rows = bind.execute(select, {"after": after, "batch": BATCH}).all()
        if not rows:
            break
        values = [{"id": row.id, **columns_for(row)} for row in rows]
        if update is None:
            sets = ", ".join(f"{name} = :{name}" for name in values[0] if name != "id")
            update = sa.text(f"UPDATE products SET {sets} WHERE id = :id")
        bind.execute(update, values)
        after = rows[-1].id


def upgrade():
    dialect = op.get_context().dialect.name
    _drop_index(dialect)
    for column in COLUMNS:
        # A plain ADD COLUMN on SQLite too (no table copy): the default is a constant.
        op.add_column('products', sa.Column(column, sa.Text(), server_default='', nullable=False))
    _backfill(search_columns_for)
    _drop_columns(dialect, ['search_text'])
    _create_index(dialect, COLUMNS)


def downgrade():
    dialect = op.get_context().dialect.name
    _drop_index(dialect)
    op.add_column(
        'products', sa.Column('search_text', sa.Text(), server_default='', nullable=False)
    )
    _backfill(lambda row: {"search_text": search_text_for(row)})
    _drop_columns(dialect, COLUMNS)
    _create_index(dialect, ['search_text'])
