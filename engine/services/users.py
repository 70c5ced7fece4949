"""Users and groups: argon2-hashed passwords, and a short-lived cache of successful checks.

argon2 is slow on purpose (tens of milliseconds); HTTP Basic sends the password with every call,
so a successful check is remembered briefly (``auth_cache_seconds``), with the user's groups.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update

from engine.errors import BadRequest, Conflict, NotFound, Unauthorized
from engine.identity import Principal
from engine.storage.database import Database
from engine.storage.tables import membership, user_account, user_group

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def groups_of_user_clause(user_id: str):  # noqa: ANN201
    """A subquery of the group ids a user belongs to."""
    return select(membership.c.group_id).where(membership.c.user_id == user_id)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


class _CheckCache:
    """Principals whose password checked out recently, keyed by user and a keyed hash of the password.

    A hit answers without the database: every API call carries the password, and the check and the
    group lookup would otherwise dominate a request. A password changed through this process
    forgets the user at once; other processes, and group changes, take effect within ``ttl`` seconds.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._key = os.urandom(32)
        self._entries: dict[tuple[str, str], tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def _digest(self, password: str) -> str:
        return hmac.new(self._key, password.encode(), hashlib.sha256).hexdigest()

    def get(self, user_id: str, password: str) -> Principal | None:
        key = (user_id, self._digest(password))
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def remember(self, password: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[(principal.user_id, self._digest(password))] = (now + self.ttl, principal)

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if k[0] != user_id}


class UserService:
    def __init__(self, db: Database, cache_seconds: float) -> None:
        self.db = db
        self._cache = _CheckCache(cache_seconds)

    def create_user(
        self,
        user_id: str,
        password: str,
        *,
        groups: list[str] = (),
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
    ) -> None:
        if not user_id or not user_id.strip() or len(user_id) > 255:
            raise BadRequest("A user id must be 1 to 255 characters")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise BadRequest(f"A password must have at least {MIN_PASSWORD_LENGTH} characters")
        with self.db.transaction() as uow:
            if uow.execute(select(user_account.c.id).where(user_account.c.id == user_id)).first():
                raise Conflict(f"User '{user_id}' already exists")
            uow.execute(
                user_account.insert(),
                {
                    "id": user_id,
                    "password_hash": _hasher.hash(password),
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": email,
                },
            )
            for group_id in groups:
                self._ensure_group(uow, group_id)
                uow.execute(membership.insert(), {"user_id": user_id, "group_id": group_id})

    def _ensure_group(self, uow, group_id: str, name: str | None = None) -> None:  # noqa: ANN001
        if not group_id or len(group_id) > 255:
            raise BadRequest("A group id must be 1 to 255 characters")
        if not uow.execute(select(user_group.c.id).where(user_group.c.id == group_id)).first():
            uow.execute(user_group.insert(), {"id": group_id, "name": name or group_id, "type": "WORKFLOW"})

    def set_password(self, user_id: str, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise BadRequest(f"A password must have at least {MIN_PASSWORD_LENGTH} characters")
        with self.db.transaction() as uow:
            self._user_row(uow, user_id)
            uow.execute(
                update(user_account).where(user_account.c.id == user_id).values(password_hash=_hasher.hash(password))
            )
        self._cache.forget(user_id)

    def _user_row(self, uow, user_id: str) -> dict[str, Any]:  # noqa: ANN001
        row = uow.execute(select(user_account).where(user_account.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"No user '{user_id}'")
        return dict(row._mapping)

    def get(self, user_id: str) -> dict[str, Any]:
        with self.db.transaction(write=False) as uow:
            row = self._user_row(uow, user_id)
            row.pop("password_hash")
            row["groups"] = sorted(uow.execute(groups_of_user_clause(user_id)).scalars())
            return row

    def principal(self, user_id: str) -> Principal:
        """The user with their current groups, for a session that signed in earlier; Unauthorized if
        the user no longer exists (the session ends)."""
        with self.db.transaction(write=False) as uow:
            if uow.execute(select(user_account.c.id).where(user_account.c.id == user_id)).first() is None:
                raise Unauthorized(f"User '{user_id}' no longer exists")
            groups = frozenset(uow.execute(groups_of_user_clause(user_id)).scalars())
        return Principal(user_id, groups)

    def set_locale(self, user_id: str, locale: str | None) -> None:
        """Remember the UI language a user chose (None: the default)."""
        with self.db.transaction() as uow:
            self._user_row(uow, user_id)
            uow.execute(update(user_account).where(user_account.c.id == user_id).values(locale=locale))

    def user_count(self) -> int:
        with self.db.transaction(write=False) as uow:
            return uow.execute(select(func.count()).select_from(user_account)).scalar_one()

    def authenticate(self, user_id: str, password: str) -> Principal:
        """The principal for valid credentials; Unauthorized otherwise (same message either way)."""
        cached = self._cache.get(user_id, password)
        if cached is not None:
            return cached
        # One query for the hash and the groups: this runs on every API call.
        query = (
            select(user_account.c.password_hash, membership.c.group_id)
            .select_from(user_account.outerjoin(membership, membership.c.user_id == user_account.c.id))
            .where(user_account.c.id == user_id)
        )
        with self.db.transaction(write=False) as uow:
            rows = uow.execute(query).all()
        row = rows[0] if rows else None
        groups = frozenset(r.group_id for r in rows if r.group_id is not None)
        if row is None:
            # Spend the same time as a real check so user names can't be probed by timing.
            _verify_quietly(password)
            raise Unauthorized("Invalid user name or password")
        try:
            _hasher.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise Unauthorized("Invalid user name or password") from None
        principal = Principal(user_id, groups)
        self._cache.remember(password, principal)
        return principal


_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))


def _verify_quietly(password: str) -> None:
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass
