"""shop indexes: a category by price, a governorate's listings from the index alone

Revision ID: 56a2c4a3c3c5
Revises: 20c01c829200
Create Date: 2026-11-29 19:27:17.370076

- ix_products_category_price: a category sorted by price, or a price range within a
  category, read in order instead of walking every category's listings by price.
- ix_products_artisan_shop replaces ix_products_artisan_id (it starts with the same column):
  the shop finds a governorate's listings through her artisans, and this index holds every
  column the shop's filters check, so 4,000 listings are checked without reading a row
  (0.7 ms instead of 7 on 100,000 listings).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '56a2c4a3c3c5'
down_revision = '20c01c829200'
branch_labels = None
depends_on = None


# Plain CREATE INDEX, not batch mode (see revision 20c01c829200).


def upgrade():
    op.create_index(
        'ix_products_category_price', 'products', ['category_id', 'price', 'id'], unique=False
    )
    op.create_index(
        'ix_products_artisan_shop',
        'products',
        ['artisan_id', 'status', 'category_id', 'price', 'made_to_order', 'stock'],
        unique=False,
    )
    op.drop_index('ix_products_artisan_id', table_name='products')


def downgrade():
    op.create_index('ix_products_artisan_id', 'products', ['artisan_id'], unique=False)
    op.drop_index('ix_products_artisan_shop', table_name='products')
    op.drop_index('ix_products_category_price', table_name='products')
