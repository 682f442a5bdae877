"""search index

Revision ID: 378708781110
Revises: 87eb5752593e
Create Date: 2026-11-29 18:04:50.800878

products.search_text, and FTS5 (SQLite) or a tsvector with GIN (PostgreSQL) over it.

products.search_text holds normalise(title, description, materials, category names, the
artisan's display name, governorate and craft names in Arabic and English). The app keeps it
in step (artisan_market/catalog/search.py); this revision adds it, fills it for existing rows
and builds the index over it, which the models do not describe (Alembic's autogenerate is
told to ignore it: see search.include_name, used by migrations/env.py):

- SQLite: an FTS5 external-content table `product_search` (content='products',
  content_rowid='id', unicode61 without diacritic removal) and triggers on products that keep
  it in step; after a change of search_text only (stock and price updates do not touch it).
  A later batch migration that RECREATES products drops these triggers: re-create them then.
- PostgreSQL: a stored generated column search_vector = to_tsvector('simple', search_text)
  and a GIN index on it.
"""
import re
import unicodedata

from alembic import context, op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '378708781110'
down_revision = '87eb5752593e'
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


def search_text_for(row):
    parts = [
        row.title,
        row.description,
        row.materials,
        row.name_ar,
        row.name_en,
        row.display_name,
        _names(GOVERNORATES, row.governorate),
        _names(CRAFTS, row.craft),
    ]
    return normalise(" ".join(p for p in parts if p))


# ---------------------------------------------------------------------------------------

SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE product_search USING fts5(search_text, content='products',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER product_search_after_insert AFTER INSERT ON products BEGIN\n"
    "    INSERT INTO product_search (rowid, search_text) VALUES (new.id, new.search_text);\n"
    "END",
    "CREATE TRIGGER product_search_after_delete AFTER DELETE ON products BEGIN\n"
    "    INSERT INTO product_search (product_search, rowid, search_text)\n"
    "    VALUES ('delete', old.id, old.search_text);\n"
    "END",
    "CREATE TRIGGER product_search_after_update AFTER UPDATE OF search_text ON products BEGIN\n"
    "    INSERT INTO product_search (product_search, rowid, search_text)\n"
    "    VALUES ('delete', old.id, old.search_text);\n"
    "    INSERT INTO product_search (rowid, search_text) VALUES (new.id, new.search_text);\n"
    "END",
    # Index the rows the backfill filled (the triggers did not exist then).
    "INSERT INTO product_search (product_search) VALUES ('rebuild')",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS product_search_after_insert",
    "DROP TRIGGER IF EXISTS product_search_after_delete",
    "DROP TRIGGER IF EXISTS product_search_after_update",
    "DROP TABLE IF EXISTS product_search",
]
POSTGRESQL_UPGRADE = [
    "ALTER TABLE products ADD COLUMN search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED",
    "CREATE INDEX ix_products_search_vector ON products USING gin (search_vector)",
]
POSTGRESQL_DOWNGRADE = [
    "DROP INDEX IF EXISTS ix_products_search_vector",
    "ALTER TABLE products DROP COLUMN IF EXISTS search_vector",
]

BATCH = 1000


def _backfill():
    """Fill search_text for the rows that exist, in batches of ids (not in --sql mode)."""
    if context.is_offline_mode():
        return  # no rows to read: run catalog.search.reindex_all() after applying the SQL
    bind = op.get_bind()
    select = sa.text(
        "SELECT p.id, p.title, p.description, p.materials, c.name_ar, c.name_en,"
        " a.display_name, a.governorate, a.craft"
        " FROM products p JOIN artisan_profiles a ON a.id = p.artisan_id"
        " LEFT JOIN categories c ON c.id = p.category_id"
        " WHERE p.id > :after ORDER BY p.id LIMIT :batch"
    )
    update = sa.text("UPDATE products SET search_text = :text WHERE id = :id")
    after = 0
    while True:
        rows = bind.execute(select, {"after": after, "batch": BATCH}).all()
        if not rows:
            break
        bind.execute(update, [{"id": row.id, "text": search_text_for(row)} for row in rows])
        after = rows[-1].id


def upgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        # A plain ADD COLUMN on SQLite too (no table copy): the default is a constant.
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    _backfill()
    dialect = op.get_context().dialect.name
    for statement in POSTGRESQL_UPGRADE if dialect == 'postgresql' else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade():
    dialect = op.get_context().dialect.name
    if dialect == 'postgresql':
        for statement in POSTGRESQL_DOWNGRADE:
            op.execute(statement)
        op.drop_column('products', 'search_text')
    else:
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
        # SQLite ≥ 3.35 drops a column in place. A batch "move and copy" would DROP TABLE
        # products with foreign keys on, and ON DELETE CASCADE would empty product_photos.
        op.execute("ALTER TABLE products DROP COLUMN search_text")
