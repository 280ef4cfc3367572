"""session summaries for reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('events_received', 'events', ['received'], unique=False)
    op.create_table('session_summaries',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('session', sa.String(length=64), nullable=False),
    sa.Column('hall_id', sa.String(length=64), nullable=False),
    sa.Column('boot', sa.String(length=40), nullable=False),
    sa.Column('exhibit', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('started', sa.Double(), nullable=False),
    sa.Column('ended', sa.Double(), nullable=True),
    sa.Column('dwell', sa.Double(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.Column('reached_end', sa.Boolean(), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=True),
    sa.Column('scenes', sa.JSON(), nullable=False),
    sa.Column('n_scenes', sa.Integer(), nullable=False),
    sa.Column('last_scene', sa.String(length=128), nullable=True),
    sa.Column('quizzes', sa.JSON(), nullable=False),
    sa.Column('measure', sa.String(length=64), nullable=True),
    sa.Column('pre_score', sa.Integer(), nullable=True),
    sa.Column('post_score', sa.Integer(), nullable=True),
    sa.Column('measure_max', sa.Integer(), nullable=True),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('first_wall', sa.Double(), nullable=False),
    sa.Column('last_wall', sa.Double(), nullable=False),
    sa.Column('updated', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('station_id', 'session')
    )
    op.create_index('session_summaries_hall_started', 'session_summaries',
                    ['hall_id', 'started'], unique=False)
    op.create_index('session_summaries_exhibit_started', 'session_summaries',
                    ['exhibit', 'version', 'started'], unique=False)
    op.create_index('session_summaries_boot', 'session_summaries',
                    ['station_id', 'boot'], unique=False)
    op.create_table('session_answers',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('session', sa.String(length=64), nullable=False),
    sa.Column('scene', sa.String(length=128), nullable=False),
    sa.Column('question', sa.String(length=128), nullable=False),
    sa.Column('hall_id', sa.String(length=64), nullable=False),
    sa.Column('exhibit', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('started', sa.Double(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=True),
    sa.Column('measure', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('station_id', 'session', 'scene', 'question')
    )
    op.create_index('session_answers_question', 'session_answers',
                    ['exhibit', 'version', 'scene', 'question'], unique=False)
    op.create_table('summary_marks',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('watermark', sa.Double(), nullable=False),
    sa.Column('updated', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('summary_marks')
    op.drop_index('session_answers_question', table_name='session_answers')
    op.drop_table('session_answers')
    op.drop_index('session_summaries_boot', table_name='session_summaries')
    op.drop_index('session_summaries_exhibit_started', table_name='session_summaries')
    op.drop_index('session_summaries_hall_started', table_name='session_summaries')
    op.drop_table('session_summaries')
    op.drop_index('events_received', table_name='events')
