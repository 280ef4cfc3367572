"""rollouts and station tags

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 02:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('content', sa.JSON(), nullable=True))

    op.create_table('rollouts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bundle_id', sa.Integer(), nullable=False),
    sa.Column('target_kind', sa.String(length=10), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('canary', sa.Integer(), nullable=False),
    sa.Column('canary_unit', sa.String(length=10), nullable=False),
    sa.Column('healthy_seconds', sa.Double(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('created', sa.Double(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('halted_reason', sa.Text(), nullable=True),
    sa.Column('updated', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.create_index('rollouts_state', ['state'], unique=False)

    op.create_table('rollout_stations',
    sa.Column('rollout_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('progress', sa.Double(), nullable=True),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('updated', sa.Double(), nullable=False),
    sa.Column('command_id', sa.Integer(), nullable=True),
    sa.Column('running_since', sa.Double(), nullable=True),
    sa.Column('previous', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'], ),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ),
    sa.PrimaryKeyConstraint('rollout_id', 'station_id')
    )


def downgrade() -> None:
    op.drop_table('rollout_stations')
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.drop_index('rollouts_state')
    op.drop_table('rollouts')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_column('content')
        batch_op.drop_column('tags')
