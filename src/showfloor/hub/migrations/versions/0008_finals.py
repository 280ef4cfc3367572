"""competition finals across halls

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('exhibit', sa.String(length=64), nullable=False),
    sa.Column('competition', sa.String(length=64), nullable=False),
    sa.Column('halls', sa.JSON(), nullable=False),
    sa.Column('start', sa.Double(), nullable=False),
    sa.Column('gap', sa.Double(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('created', sa.Double(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('finals', schema=None) as batch_op:
        batch_op.create_index('finals_start', ['start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('finals', schema=None) as batch_op:
        batch_op.drop_index('finals_start')
    op.drop_table('finals')
