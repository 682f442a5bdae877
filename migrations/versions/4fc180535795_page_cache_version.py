"""page cache: the catalogue's version, one more with every change to what shop pages show

One row, "catalog", seeded here: without it pages are not kept (artisan_market/pagecache.py).

Revision ID: 4fc180535795
Revises: 28a0cd0d6d18
Create Date: 2026-12-04 16:30:35.432556

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4fc180535795'
down_revision = '28a0cd0d6d18'
branch_labels = None
depends_on = None


def upgrade():
    versions = op.create_table('cache_versions',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_versions'))
    )
    op.bulk_insert(versions, [{"name": "catalog", "version": 1}])


def downgrade():
    op.drop_table('cache_versions')
