"""shop indexes

Revision ID: 20c01c829200
Revises: 378708781110
Create Date: 2026-11-29 18:32:27.751129

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20c01c829200'
down_revision = '378708781110'
branch_labels = None
depends_on = None


# Plain CREATE INDEX, not batch mode: on SQLite a batch that rebuilt "products" would drop
# the search triggers, and with foreign keys on, its table copy would empty product_photos.


def upgrade():
    op.create_index('ix_products_category_newest', 'products', ['category_id', 'id'], unique=False)
    op.create_index('ix_products_price', 'products', ['price', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_products_price', table_name='products')
    op.drop_index('ix_products_category_newest', table_name='products')
