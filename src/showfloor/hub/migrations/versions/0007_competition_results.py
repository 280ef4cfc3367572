"""competition results per hall (kept after the raw events expire) and the competitions'
per-question rollup

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

#: summary_marks as it is at this revision (0004), for the data step's row
MARKS = sa.table('summary_marks', sa.column('key', sa.String(32)),
                 sa.column('watermark', sa.Double()), sa.column('updated', sa.Double()))
#: the data step this migration asks for: competition_results and report_contests from
#: the competition events still stored
PENDING = 'pending:competitions'


def upgrade() -> None:
    op.create_table('competition_results',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('boot', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hall_id', sa.String(length=64), nullable=False),
    sa.Column('exhibit', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('competition', sa.String(length=64), nullable=False),
    sa.Column('final', sa.String(length=64), nullable=True),
    sa.Column('started', sa.Double(), nullable=False),
    sa.Column('ended', sa.Double(), nullable=True),
    sa.Column('asked', sa.Integer(), nullable=False),
    sa.Column('teams', sa.Integer(), nullable=False),
    sa.Column('board', sa.JSON(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('first_wall', sa.Double(), nullable=False),
    sa.Column('last_wall', sa.Double(), nullable=False),
    sa.Column('updated', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('station_id', 'boot', 'seq')
    )
    op.create_index('competition_results_hall_started', 'competition_results',
                    ['hall_id', 'started'], unique=False)
    op.create_table('report_contests',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hall_id', sa.String(length=64), nullable=False),
    sa.Column('exhibit', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('competition', sa.String(length=64), nullable=False),
    sa.Column('question', sa.String(length=128), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('tenths', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'day', 'hall_id', 'exhibit', 'version', 'competition',
                            'question', 'correct', 'tenths')
    )
    # the competitions held before this revision: their results and sums come from the
    # competition events still stored, by the hub's code (a data step)
    op.execute(MARKS.delete().where(MARKS.c.key == PENDING))
    op.bulk_insert(MARKS, [{'key': PENDING, 'watermark': 0.0, 'updated': 0.0}])


def downgrade() -> None:
    op.execute(MARKS.delete().where(MARKS.c.key == PENDING))
    op.drop_table('report_contests')
    op.drop_index('competition_results_hall_started', table_name='competition_results')
    op.drop_table('competition_results')
