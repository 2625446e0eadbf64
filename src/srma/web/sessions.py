"""Signed session cookies with an expiry, and the CSRF token each session carries.

The cookie holds ``{"uid": reviewer id or None, "csrf": token}`` signed with
the project's secret (itsdangerous, HMAC-SHA1 over a timestamp): a cookie of
another project (another secret), a tampered one or one older than
``max_age`` seconds is no session.  Every state-changing request must echo
the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``).
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "srma_session"
SECRET_FILE = ".srma-web-secret"


def project_secret(folder: Path) -> str:
    """The project's signing secret, created (readable by its owner only) on first use."""
    path = folder / SECRET_FILE
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


class SessionCodec:
    """Encodes and checks session cookies for one project."""

    def __init__(self, secret: str, *, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="srma-session")
        self.max_age = max_age

    def new(self, uid: int | None = None) -> dict[str, object]:
        return {"uid": uid, "csrf": secrets.token_urlsafe(32)}

    def dumps(self, data: dict[str, object]) -> str:
        return self._serializer.dumps(data)

    def loads(self, cookie: str | None) -> dict[str, object] | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        return data if isinstance(data, dict) and "csrf" in data else None


def csrf_ok(session: dict[str, object] | None, given: str | None) -> bool:
    """Whether ``given`` is the session's CSRF token (compared in constant time)."""
    if session is None or not given:
        return False
    return hmac.compare_digest(str(session["csrf"]), given)
