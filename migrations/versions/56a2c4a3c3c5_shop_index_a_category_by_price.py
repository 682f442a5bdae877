"""shop index: a category by price

Revision ID: 56a2c4a3c3c5
Revises: 20c01c829200
Create Date: 2026-11-29 19:27:17.370076

A category sorted by price, or a price range within a category, read in order from this
index instead of walking every category's listings by price and skipping the others.
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


def downgrade():
    op.drop_index('ix_products_category_price', table_name='products')
