"""Signing in to the web UI, with failed attempts slowed down.

Failures are counted per user name and per client address, in the database so that every server
process sees them. After a few free attempts each further failure blocks the key for a doubling
time (2 s, 4 s, 8 s … at most 15 minutes); a successful sign-in clears the user name's count. An
address gets more free attempts than a user name: an office's staff often share one address.
While a key is blocked the password is not even checked, so guessing gains nothing by hurrying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from engine.clock import Clock, stored_utc
from engine.errors import TooManyAttempts, Unauthorized
from engine.identity import Principal
from engine.services.users import UserService
from engine.storage.database import Database
from engine.storage.tables import sign_in_failure


@dataclass(frozen=True)
class ThrottlePolicy:
    free_user_attempts: int = 3
    free_address_attempts: int = 20
    first_delay_seconds: float = 2.0
    longest_delay_seconds: float = 15 * 60.0

    def delay(self, failures: int, free: int) -> timedelta | None:
        over = failures - free
        if over <= 0:
            return None
        return timedelta(seconds=min(self.longest_delay_seconds, self.first_delay_seconds * 2 ** (over - 1)))


class SignInService:
    def __init__(self, db: Database, users: UserService, clock: Clock, policy: ThrottlePolicy | None = None) -> None:
        self.db = db
        self.users = users
        self.clock = clock
        self.policy = policy or ThrottlePolicy()

    def sign_in(self, user_id: str, password: str, address: str | None) -> Principal:
        """The principal for valid credentials. Unauthorized for wrong ones; TooManyAttempts while the
        user name or the address is blocked after repeated failures."""
        user_id = user_id.strip()
        if not user_id or not password:
            raise Unauthorized("Invalid user name or password")
        keys = self._keys(user_id, address)
        now = self.clock.now()
        self._refuse_if_blocked(keys, now)
        try:
            principal = self.users.authenticate(user_id, password)
        except Unauthorized:
            self._record_failure(keys, now)
            raise
        with self.db.transaction() as uow:
            uow.execute(delete(sign_in_failure).where(sign_in_failure.c.key == keys[0][0]))
        return principal

    @staticmethod
    def _keys(user_id: str, address: str | None) -> list[tuple[str, str]]:
        keys = [(f"user:{user_id.lower()}"[:255], "user")]
        if address:
            keys.append((f"address:{address}"[:255], "address"))
        return keys

    def _refuse_if_blocked(self, keys: list[tuple[str, str]], now: datetime) -> None:
        with self.db.transaction(write=False) as uow:
            rows = uow.execute(
                select(sign_in_failure.c.blocked_until).where(
                    sign_in_failure.c.key.in_([key for key, _ in keys]), sign_in_failure.c.blocked_until.is_not(None)
                )
            ).scalars()
            latest = max((stored_utc(b) for b in rows), default=None)
        if latest is not None and latest > now:
            wait = math.ceil((latest - now).total_seconds())
            raise TooManyAttempts(f"Too many failed sign-ins; try again in {wait} seconds", retry_after=wait)

    def _record_failure(self, keys: list[tuple[str, str]], now: datetime) -> None:
        for attempt in range(2):
            try:
                with self.db.transaction() as uow:
                    for key, kind in keys:
                        row = uow.execute(
                            select(sign_in_failure.c.failures).where(sign_in_failure.c.key == key)
                        ).first()
                        failures = (row.failures if row else 0) + 1
                        free = self.policy.free_user_attempts if kind == "user" else self.policy.free_address_attempts
                        delay = self.policy.delay(failures, free)
                        values = {
                            "failures": failures,
                            "last_failure": now,
                            "blocked_until": now + delay if delay else None,
                        }
                        if row:
                            uow.execute(update(sign_in_failure).where(sign_in_failure.c.key == key).values(**values))
                        else:
                            uow.execute(sign_in_failure.insert().values(key=key, **values))
                return
            except IntegrityError:
                # Another process recorded the first failure of this key at the same moment: count again.
                if attempt:
                    raise
