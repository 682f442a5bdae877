"""forms sent once: the key of each form whose work must happen once (a new listing's
photos now, an order next), and where its first sending led

Revision ID: 0befb494ba1d
Revises: c4e7a1d25b90
Create Date: 2026-12-03 22:25:06.429889

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0befb494ba1d'
down_revision = 'c4e7a1d25b90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sent_forms',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('result', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sent_forms'))
    )


def downgrade():
    op.drop_table('sent_forms')
