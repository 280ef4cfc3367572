"""each boot's engine_started, for a lookup by station and boot

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    boots = op.create_table('boots',
    sa.Column('station_id', sa.String(length=64), nullable=False),
    sa.Column('boot', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('exhibit', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('wall', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('station_id', 'boot', 'seq')
    )
    # the engine_started events already stored (read through the (kind, wall) index)
    events = sa.table('events', sa.column('station_id', sa.String), sa.column('boot', sa.String),
                      sa.column('seq', sa.BigInteger), sa.column('kind', sa.String),
                      sa.column('wall', sa.Double), sa.column('data', sa.JSON))
    conn = op.get_bind()
    rows = []
    for r in conn.execute(sa.select(events.c.station_id, events.c.boot, events.c.seq,
                                    events.c.wall, events.c.data)
                          .where(events.c.kind == 'engine_started')):
        data = r.data if isinstance(r.data, dict) else {}
        rows.append({'station_id': r.station_id, 'boot': r.boot, 'seq': int(r.seq),
                     'exhibit': str(data.get('exhibit', ''))[:64],
                     'version': str(data.get('version', ''))[:64], 'wall': float(r.wall)})
    for i in range(0, len(rows), 5000):
        op.bulk_insert(boots, rows[i:i + 5000])


def downgrade() -> None:
    op.drop_table('boots')
