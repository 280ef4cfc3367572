"""Operator accounts: viewer (reads), operator (also commands and codes), admin (all)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from showfloor.errors import ConfigError
from showfloor.hub import audit, auth
from showfloor.hub import db as t

#: what each role may do, cumulatively
CAN = {
    "view": {"viewer", "operator", "admin"},
    "command": {"operator", "admin"},
    "enrol": {"operator", "admin"},
    "manage": {"admin"},  # users, halls, revoking stations
}


def allowed(role: str, action: str) -> bool:
    return role in CAN.get(action, set())


def create(conn: Connection, now: float, username: str, password: str, role: str,
           actor: str) -> int:
    problem = auth.username_problem(username) or auth.password_problem(password)
    if problem:
        raise ConfigError(problem)
    if role not in auth.ROLES:
        raise ConfigError(f"'{role}' is not a role; use one of {', '.join(auth.ROLES)}")
    if conn.execute(select(t.users.c.id).where(t.users.c.username == username)).first():
        raise ConfigError(f"there is already a user '{username}'")
    res = conn.execute(insert(t.users).values(username=username,
                                              password_hash=auth.hash_password(password),
                                              role=role, created=now))
    audit.record(conn, now, actor, "user.created", username, role=role)
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def get(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(t.users).where(t.users.c.id == user_id)
                       .where(t.users.c.disabled.is_(None))).mappings().first()
    return dict(row) if row else None


def by_name(conn: Connection, username: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.users).where(t.users.c.username == username)).mappings().first()
    return dict(row) if row else None


def all_users(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        select(t.users.c.id, t.users.c.username, t.users.c.role, t.users.c.created,
               t.users.c.disabled).order_by(t.users.c.username)).mappings()]


def disable(conn: Connection, now: float, user_id: int, actor: str) -> None:
    conn.execute(update(t.users).where(t.users.c.id == user_id).values(disabled=now))
    audit.record(conn, now, actor, "user.disabled", str(user_id))
