"""Signing calls as the Standard Webhooks specification describes.

``webhook-signature`` is ``v1,<base64 HMAC-SHA256>`` over
``{webhook-id}.{webhook-timestamp}.{content}``; the key is the base64 part of
the ``whsec_`` secret. Several space-separated signatures are allowed, which
is how both secrets sign during a rotation.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # The specification asks for 24 to 64 random bytes.
# Decoded keys kept by secret, so the worker decodes a webhook's secret once
# rather than for every call it signs; more than the webhooks one worker
# usually sends to at a time.
SECRET_KEY_CACHE_SIZE = 4096


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def current_secrets(
    secret: str,
    previous: str,
    previous_expires_at: dt.datetime | None,
    now: dt.datetime,
) -> list[str]:
    """The secrets that sign a call at ``now``: the current one, and the one
    before a rotation until it expires."""
    if previous and previous_expires_at and previous_expires_at > now:
        return [secret, previous]
    return [secret]


@functools.lru_cache(maxsize=SECRET_KEY_CACHE_SIZE)
def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, content: bytes) -> str:
    """One ``v1,...`` signature of ``content`` with ``secret``."""
    message = b"%s.%d.%s" % (msg_id.encode(), timestamp, content)
    digest = hmac.new(secret_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_: Iterable[str], msg_id: str, timestamp: int, content: bytes
) -> str:
    """The ``webhook-signature`` value: one signature per current secret."""
    return " ".join(sign(s, msg_id, timestamp, content) for s in secrets_)
