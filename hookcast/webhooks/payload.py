"""The payload of a call: the POST body and the GET query (SPEC section 4).

The six keys always come in the documented order: ``event``, ``sentAt``,
``station``, ``sender_id``, ``sender``, ``webhookCallId``. The POST body is
JSON; the GET query carries the same object in the bracket notation that
Rails, Rack, PHP and the ``qs`` library parse (``sender[first_name]=John``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

# Longer GET URLs are cut or refused by common servers and proxies, so such a
# call fails with this reason instead of being sent (SPEC section 4).
MAX_GET_URL_BYTES = 8192

# RFC 3986 section 2.3: the unreserved characters, which need no encoding.
_UNRESERVED = "-._~"


@dataclass(slots=True)
class Payload:
    event: str
    sent_at: str
    station: str
    sender_id: int
    sender_json: str  # The stored JSON text of the record's representation.
    call_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "sentAt": self.sent_at,
            "station": self.station,
            "sender_id": self.sender_id,
            "sender": json.loads(self.sender_json),
            "webhookCallId": self.call_id,
        }

    def post_body(self) -> bytes:
        """The JSON body, with the stored sender spliced in unparsed."""
        dumps = json.dumps
        return (
            f'{{"event": {dumps(self.event)}, "sentAt": {dumps(self.sent_at)}, '
            f'"station": {dumps(self.station)}, "sender_id": {self.sender_id}, '
            f'"sender": {self.sender_json}, '
            f'"webhookCallId": {dumps(self.call_id)}}}'
        ).encode()

    def query(self) -> str:
        return encode_query(self.as_dict())


def encode_query(data: dict[str, Any]) -> str:
    """``data`` as a query string in bracket notation, keys and values
    percent-encoded as the ``qs`` library's ``stringify`` does by default."""
    return "&".join(
        f"{quote(key, safe=_UNRESERVED)}={quote(value, safe=_UNRESERVED)}"
        for key, value in _flatten(data, "")
    )


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}[{key}]" if prefix else str(key))
    elif isinstance(value, list | tuple):
        scalars = all(not isinstance(item, dict | list | tuple) for item in value)
        for index, item in enumerate(value):
            # Scalars as key[]=a&key[]=b; containers need the index to stay
            # apart (key[0][name]=...).
            yield from _flatten(
                item, f"{prefix}[]" if scalars else f"{prefix}[{index}]"
            )
    else:
        yield prefix, _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def get_url(endpoint: str, query: str) -> str:
    """The endpoint with ``query`` appended to its own query string."""
    parts = urlsplit(endpoint)
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, ""))
