"""The caller of a service, as the identity provider described them: user id, name, roles and groups."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ROLES = ("designer", "agent", "supervisor", "approver", "ops", "integration", "dpo", "admin")


@dataclass(frozen=True)
class Principal:
    """An authenticated person. Roles say which operations they may call; groups say whose work is theirs."""

    user_id: str
    name: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, user_id: str, roles: Iterable[str] = (), groups: Iterable[str] = (),
           name: str | None = None) -> Principal:
        """A principal keeping only the roles this service knows (an IdP may send many others)."""
        return cls(user_id, name, frozenset(r for r in roles if r in ROLES), frozenset(groups))

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds any of `roles`."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles
