"""Who is acting: a user and their groups, as the service layer sees them."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN_GROUP = "admin"
#: Other systems' technical users: external task workers, and senders of messages to any instance.
EXTERNAL_WORKER_GROUP = "external-worker"


@dataclass(frozen=True)
class Principal:
    user_id: str
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


#: The engine acting on its own (CLI deployments at start-up, the scheduler).
SYSTEM = Principal("system", frozenset({ADMIN_GROUP}))
