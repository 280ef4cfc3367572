"""the fleet store

Revision ID: 0001
Revises:
Create Date: 2026-11-29 06:36:35.599204
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # made by alembic autogenerate from hub/db.py, then checked by hand
    op.create_table('audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index('audit_at', ['at'], unique=False)

    op.create_table('events',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('boot', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('t', sa.Double(), nullable=False),
    sa.Column('wall', sa.Double(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('session', sa.String(length=64), nullable=True),
    sa.Column('scene', sa.String(length=128), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('received', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('station_id', 'id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('events_kind_wall', ['kind', 'wall'], unique=False)
        batch_op.create_index('events_station_wall', ['station_id', 'wall'], unique=False)

    op.create_table('halls',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('opening_hours', sa.JSON(), nullable=False),
    sa.Column('closed_mode', sa.String(length=20), nullable=False),
    sa.Column('created', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('login_failures_key_at', ['key', 'at'], unique=False)

    op.create_table('nonces',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('station_id', 'nonce')
    )
    with op.batch_alter_table('nonces', schema=None) as batch_op:
        batch_op.create_index('nonces_seen', ['seen'], unique=False)

    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('created', sa.Double(), nullable=False),
    sa.Column('disabled', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('enrol_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('hall_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created', sa.Double(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('expires', sa.Double(), nullable=False),
    sa.Column('used', sa.Double(), nullable=True),
    sa.Column('station_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('code_hash')
    )
    op.create_table('stations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('hall_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('enrolled', sa.Double(), nullable=False),
    sa.Column('revoked', sa.Double(), nullable=True),
    sa.Column('opening_hours', sa.JSON(), nullable=True),
    sa.Column('last_seen', sa.Double(), nullable=True),
    sa.Column('heartbeat', sa.JSON(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.create_index('stations_hall', ['hall_id'], unique=False)

    op.create_table('commands',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('created', sa.Double(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('expires', sa.Double(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('delivered', sa.Double(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('finished', sa.Double(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.create_index('commands_station_state', ['station_id', 'state'], unique=False)



def downgrade() -> None:
    # made by alembic autogenerate from hub/db.py, then checked by hand
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.drop_index('commands_station_state')

    op.drop_table('commands')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_index('stations_hall')

    op.drop_table('stations')
    op.drop_table('enrol_codes')
    op.drop_table('users')
    op.drop_table('settings')
    with op.batch_alter_table('nonces', schema=None) as batch_op:
        batch_op.drop_index('nonces_seen')

    op.drop_table('nonces')
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('login_failures_key_at')

    op.drop_table('login_failures')
    op.drop_table('halls')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('events_station_wall')
        batch_op.drop_index('events_kind_wall')

    op.drop_table('events')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index('audit_at')

    op.drop_table('audit')
