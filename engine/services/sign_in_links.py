"""Redeeming a one-time sign-in link: verified, then marked used in the same transaction that admits it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from engine import clock
from engine.db.tables import used_sign_in_links
from engine.identity.keys import web_secret
from engine.identity.principal import Principal
from engine.identity.sign_in_links import LinkError, verify

from .engine_app import IncidentEngine


def redeem(engine: IncidentEngine, token: str) -> Principal:
    """The principal the link signs in; LinkError when it is forged, expired or was used before.

    The primary key on the link id decides a race between two tabs (or two servers): exactly one wins."""
    link = verify(web_secret(engine.settings), token)
    now = clock.now()
    try:
        with engine.uow() as uow:
            uow.conn.execute(delete(used_sign_in_links).where(
                used_sign_in_links.c.expires_at < now - timedelta(days=1)))
            uow.conn.execute(used_sign_in_links.insert().values(
                link_id=link.link_id, user_id=link.principal.user_id, used_at=now, expires_at=link.expires_at))
            uow.commit()
    except IntegrityError as err:
        raise LinkError("this sign-in link was already used; ask for a new one") from err
    return link.principal
