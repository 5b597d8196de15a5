"""Who may do what: API tokens, stored hashed, and the caller of each request.

A token belongs to one member (on the roster or a registered resident).  It is
shown once when issued (``gridcore tokens issue MEMBER``) as
``gct_<id>_<secret>``; the store keeps only the id, the member, a label, the
times it was issued and revoked, and the SHA-256 of the secret (the secret is
32 random bytes, so a plain hash is enough; comparison is constant-time).
Every action a token takes is recorded with the token's member as the actor,
so the engine's per-cell permissions decide exactly as they do for events
from any other source.

Anonymous residents have no token: they may report (recorded as the
service's intake member, the community's duty desk or hotline account) and
rate what they reported, proving it with the report key they were given.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from gridcore import Engine
from gridcore.classes import frozen
from gridcore.store import Store

from .problems import Problem

TOKENS = "service.tokens"
REPORT_KEYS = "service.report_keys"
PREFIX = "gct"


@frozen
class Token:
    """A stored token (without its secret)."""

    id: str
    member: str
    label: str
    issued: str
    revoked: str | None = None

    @property
    def active(self) -> bool:
        """True until revoked."""
        return self.revoked is None


@frozen
class Caller:
    """Who sent a request: a member (with the id of the token used) or an anonymous resident."""

    member: str | None
    token: str | None = None
    address: str = ""

    @property
    def anonymous(self) -> bool:
        """True without a token."""
        return self.member is None

    @property
    def limit_key(self) -> str:
        """What rate limits count against: the token, else the client address."""
        return f"token:{self.token}" if self.token else f"address:{self.address}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue(engine: Engine, member: str, label: str = "", now: datetime | None = None) -> tuple[Token, str]:
    """Issue a token for ``member``; returns the stored token and the full secret string (shown once)."""
    if not engine.knows_person(member) or member == "system":
        raise Problem("not-found", f"unknown member {member!r}: not on the roster nor a registered resident",
                      f"{member!r} 既不在花名册中，也不是已登记的居民")
    ident = secrets.token_hex(6)
    while engine.store.get(TOKENS, ident) is not None:  # pragma: no cover - 48 random bits
        ident = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    when = (now or engine.clock.now()).isoformat()
    token = Token(ident, member, label, when)
    engine.store.put(TOKENS, ident, {**_doc(token), "sha256": _digest(secret)})
    return token, f"{PREFIX}_{ident}_{secret}"


def revoke(store: Store, ident: str, now: datetime) -> Token:
    """Revoke the token ``ident`` (its id, or the whole token string); revoking twice is harmless."""
    ident = _id_of(ident)
    doc = store.get(TOKENS, ident)
    if doc is None:
        raise Problem("not-found", f"no token {ident!r}", f"没有令牌 {ident!r}")
    if doc.get("revoked") is None:
        doc = {**doc, "revoked": now.isoformat()}
        store.put(TOKENS, ident, doc)
    return _token(doc)


def tokens(store: Store) -> Iterator[Token]:
    """Every token ever issued, by id."""
    for _, doc in store.items(TOKENS):
        yield _token(doc)


def check(store: Store, presented: str) -> Token | None:
    """The active token ``presented`` proves, or None (unknown, revoked or wrong secret)."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    doc = store.get(TOKENS, parts[1])
    if doc is None or doc.get("revoked") is not None:
        return None
    if not hmac.compare_digest(str(doc.get("sha256", "")), _digest(parts[2])):
        return None
    return _token(doc)


def new_report_key(store: Store, incident: str) -> str:
    """A secret that lets an anonymous reporter rate ``incident`` later (stored hashed)."""
    key = secrets.token_urlsafe(16)
    store.put(REPORT_KEYS, incident, {"sha256": _digest(key)})
    return key


def report_key_fits(store: Store, incident: str, key: str) -> bool:
    """True if ``key`` is the report key given for ``incident``."""
    doc = store.get(REPORT_KEYS, incident)
    return doc is not None and hmac.compare_digest(str(doc.get("sha256", "")), _digest(key))


def _id_of(text: str) -> str:
    parts = text.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else text


def _doc(token: Token) -> dict[str, Any]:
    return {"id": token.id, "member": token.member, "label": token.label, "issued": token.issued,
            "revoked": token.revoked}


def _token(doc: dict[str, Any]) -> Token:
    return Token(str(doc["id"]), str(doc["member"]), str(doc.get("label", "")), str(doc["issued"]),
                 doc.get("revoked"))
