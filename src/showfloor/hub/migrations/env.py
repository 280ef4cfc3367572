"""Alembic's environment: migrations run on the connection the hub hands over."""

from __future__ import annotations

from alembic import context

from showfloor.hub.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
context.run_migrations()
