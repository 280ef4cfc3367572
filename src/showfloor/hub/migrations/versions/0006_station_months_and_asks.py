"""station months (alive and used hours per station and UTC month, one bit an hour);
the ask terminal's questions per visit and their rollup

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

#: summary_marks as it is at this revision (0004), for the data step's row
MARKS = sa.table('summary_marks', sa.column('key', sa.String(32)),
                 sa.column('watermark', sa.Double()), sa.column('updated', sa.Double()))
#: the data step this migration asks for: station_months from station_hours and the
#: visits' starts in session_summaries
PENDING = 'pending:station_months'


def upgrade() -> None:
    op.create_table('station_months',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('alive', sa.LargeBinary(), nullable=False),
    sa.Column('used', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('station_id', 'month')
    )
    # the visits summarised before this revision keep no questions (an empty list):
    # report_asks starts empty, as their sums
    op.add_column('session_summaries',
                  sa.Column('asks', sa.JSON(), server_default=sa.text("'[]'"),
                            nullable=False))
    op.create_table('report_asks',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hall_id', sa.String(length=64), nullable=False),
    sa.Column('exhibit', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('entry', sa.String(length=128), nullable=False),
    sa.Column('asked', sa.Integer(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'day', 'hall_id', 'exhibit', 'version', 'outcome',
                            'entry')
    )
    op.execute(MARKS.delete().where(MARKS.c.key == PENDING))
    op.bulk_insert(MARKS, [{'key': PENDING, 'watermark': 0.0, 'updated': 0.0}])


def downgrade() -> None:
    op.execute(MARKS.delete().where(MARKS.c.key == PENDING))
    op.drop_table('report_asks')
    with op.batch_alter_table('session_summaries') as batch:
        batch.drop_column('asks')
    op.drop_table('station_months')
