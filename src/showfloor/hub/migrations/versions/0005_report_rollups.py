"""report rollups: visit sums per hall, exhibit version and day or month

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 05:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ROLLUPS = ('report_visits', 'report_hours', 'report_dwell', 'report_langs', 'report_scenes',
           'report_answers', 'report_items', 'report_pairs')


def _key() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column('grain', sa.String(length=1), nullable=False),
            sa.Column('day', sa.Date(), nullable=False),
            sa.Column('hall_id', sa.String(length=64), nullable=False),
            sa.Column('exhibit', sa.String(length=64), nullable=False),
            sa.Column('version', sa.String(length=64), nullable=False)]


KEY = ['grain', 'day', 'hall_id', 'exhibit', 'version']
#: summary_marks as it is at this revision (0004), for the data step's row
MARKS = sa.table('summary_marks', sa.column('key', sa.String(32)),
                 sa.column('watermark', sa.Double()), sa.column('updated', sa.Double()))
#: the data step this migration asks for: every rollup rebuilt from the summaries
PENDING = 'pending:rollups'


def upgrade() -> None:
    op.create_table('report_visits', *_key(),
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('ended', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*KEY, 'station_id')
    )
    op.create_table('report_hours', *_key(),
    sa.Column('weekday', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hour', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*KEY, 'weekday', 'hour')
    )
    op.create_table('report_dwell', *_key(),
    sa.Column('seconds', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*KEY, 'seconds')
    )
    op.create_table('report_langs', *_key(),
    sa.Column('lang', sa.String(length=16), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*KEY, 'lang')
    )
    op.create_table('report_scenes', *_key(),
    sa.Column('scene', sa.String(length=128), nullable=False),
    sa.Column('entered', sa.Integer(), nullable=False),
    sa.Column('leaving', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*KEY, 'scene')
    )
    op.create_table('report_answers', *_key(),
    sa.Column('scene', sa.String(length=128), nullable=False),
    sa.Column('question', sa.String(length=128), nullable=False),
    sa.Column('choices', sa.String(length=512), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*KEY, 'scene', 'question', 'choices', 'correct')
    )
    op.create_table('report_items', *_key(),
    sa.Column('scene', sa.String(length=128), nullable=False),
    sa.Column('question', sa.String(length=128), nullable=False),
    sa.Column('total', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*KEY, 'scene', 'question', 'total', 'correct')
    )
    op.create_table('report_pairs', *_key(),
    sa.Column('measure', sa.String(length=64), nullable=False),
    sa.Column('maximum', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('pre', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('post', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*KEY, 'measure', 'maximum', 'pre', 'post')
    )
    op.create_table('report_presence',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hall_id', sa.String(length=64), nullable=False),
    sa.Column('passers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('station_id', 'day')
    )
    op.create_table('station_hours',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('hour', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('station_id', 'hour')
    )
    # the visits summarised before this migration: their sums, and the stations'
    # alive hours and passers-by from the events still stored, are added by the hub's
    # code once the schema is new (a data step, hub/migrations/__init__.py): this file
    # imports none of it, so it stays as it was whatever the rollups become
    op.execute(MARKS.delete().where(MARKS.c.key == PENDING))
    op.bulk_insert(MARKS, [{'key': PENDING, 'watermark': 0.0, 'updated': 0.0}])


def downgrade() -> None:
    op.execute(MARKS.delete().where(MARKS.c.key == PENDING))
    op.drop_table('station_hours')
    op.drop_table('report_presence')
    for name in reversed(ROLLUPS):
        op.drop_table(name)
