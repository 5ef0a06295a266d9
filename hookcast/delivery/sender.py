"""Sending one attempt of a call over HTTPS with aiohttp (SPEC sections 4, 5).

The payload is rendered afresh for each attempt (``sentAt`` is when this
attempt goes out), signed as Standard Webhooks describes, and sent through one
shared session whose connector keeps a keep-alive pool per endpoint host.

Errors from aiohttp are translated into :class:`DeliveryError` at the
boundary, with a message a station's developer can act on; the attempt keeps
that message. :class:`UndeliverableCall` marks the failures that sending
again cannot cure.
"""

from __future__ import annotations

import datetime as dt
import ssl
import time
from types import TracebackType
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import yarl
from django.conf import settings

import hookcast
from hookcast.delivery.claim import AttemptRecord, ClaimedCall
from hookcast.delivery.guard import blocked_cause, guarded_connector
from hookcast.exceptions import DeliveryError
from hookcast.records.representation import render_datetime
from hookcast.webhooks.models import Method
from hookcast.webhooks.payload import MAX_GET_URL_BYTES, Payload, get_url
from hookcast.webhooks.signing import signature_header

# SPEC section 5: 5 s to connect, 15 s in all (Standard Webhooks advises
# 15-30 s in all).
CONNECT_TIMEOUT_S = 5
TOTAL_TIMEOUT_S = 15
# SPEC section 5: the log keeps the first 16 KiB of a response body, and no
# more is read into memory.
MAX_RESPONSE_BODY_BYTES = 16 * 1024
# Connections open at once across all hosts; the per-host cap is a setting.
MAX_CONNECTIONS = 256
# Parsed endpoint URLs kept at once; past this the cache starts afresh, which
# costs one parse per endpoint.
MAX_CACHED_URLS = 4096


class UndeliverableCall(DeliveryError):
    """This call cannot be delivered however often it is tried."""


class Sender:
    """``async with Sender() as sender: await sender.send(call)``."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.user_agent = f"hookcast/{hookcast.__version__}"
        self._urls: dict[str, yarl.URL] = {}

    async def __aenter__(self) -> Sender:
        # The guard checks every address before a socket connects to it
        # (SPEC section 5, "Safety"), against HOOKCAST_ALLOWED_NETWORKS.
        connector = guarded_connector(
            limit=MAX_CONNECTIONS,
            limit_per_host=settings.HOOKCAST_MAX_IN_FLIGHT_PER_HOST,
            ssl=tls_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=TOTAL_TIMEOUT_S, sock_connect=CONNECT_TIMEOUT_S
            ),
            # A receiver must not be able to set cookies that later calls,
            # perhaps of another station, would carry back to it.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, call: ClaimedCall) -> AttemptRecord:
        """Render, sign and send one attempt; never raises for a failed one."""
        now = dt.datetime.now(dt.UTC)
        timestamp = int(now.timestamp())
        payload = Payload(
            event=call.event_key,
            sent_at=render_datetime(now, ZoneInfo(call.timezone)),
            station=call.station,
            sender_id=call.sender_id,
            sender_json=call.sender_json,
            call_id=call.call_id,
        )
        if call.method == Method.GET:
            url = get_url(call.endpoint, payload.query())
            body = b""
            content = urlsplit(url).query.encode()
        else:
            url = call.endpoint
            body = payload.post_body()
            content = body
        headers = {
            "User-Agent": self.user_agent,
            "webhook-id": call.call_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                call.signing_secrets(now), call.call_id, timestamp, content
            ),
        }
        if body:
            headers["Content-Type"] = "application/json"
        method = call.method.value
        started = time.monotonic()
        status: int | None = None
        response_headers: dict[str, str] = {}
        response_body = ""
        error = ""
        retryable = True
        try:
            status, response_headers, response_body = await self._request(
                method, url, headers, body
            )
        except DeliveryError as exc:
            error = str(exc)
            retryable = not isinstance(exc, UndeliverableCall)
        # Built once, when all is known: a frozen record copied per field
        # change cost a noticeable share of the sending loop.
        return AttemptRecord(
            sent_at=now,
            duration_ms=_elapsed_ms(started),
            method=method,
            url=url,
            headers=headers,
            body=body.decode(),
            status=status,
            response_headers=response_headers,
            response_body=response_body,
            error=error,
            retryable=retryable,
        )

    async def _request(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], str]:
        """Send one request; its status, headers and (capped) body."""
        if method == "GET" and len(url.encode()) > MAX_GET_URL_BYTES:
            raise UndeliverableCall(
                f"The GET URL would be {len(url.encode()):,} bytes, over "
                f"the limit of {MAX_GET_URL_BYTES:,} that servers and proxies "
                "accept; use a POST webhook for this event."
            )
        assert self._session is not None, "use Sender as an async context manager"
        try:
            async with self._session.request(
                method,
                self._url(url, cache=method == "POST"),
                data=body or None,
                headers=headers,
                allow_redirects=False,
            ) as response:
                response_body = await _read_capped(response.content)
                return (
                    response.status,
                    dict(response.headers),
                    response_body.decode(errors="replace"),
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise translate(exc, urlsplit(url).hostname or "") from exc

    def _url(self, url: str, *, cache: bool) -> yarl.URL:
        """``url`` sent byte for byte as signed: yarl must not re-encode it.

        A POST URL is the webhook's endpoint, the same for each of its calls,
        so it is parsed once; a GET URL differs per call and is not kept.
        """
        if not cache:
            return yarl.URL(url, encoded=True)
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= MAX_CACHED_URLS:
                self._urls.clear()
            parsed = self._urls[url] = yarl.URL(url, encoded=True)
        return parsed


def tls_context() -> ssl.SSLContext:
    """The system's roots, plus ``HOOKCAST_CA_BUNDLE``; always verified."""
    context = ssl.create_default_context()
    if bundle := settings.HOOKCAST_CA_BUNDLE:
        context.load_verify_locations(cafile=bundle)
    return context


def translate(exc: BaseException, host: str) -> DeliveryError:
    """An aiohttp or socket error as a sentence about the endpoint."""
    blocked = blocked_cause(exc)
    if blocked is not None:
        return UndeliverableCall(str(blocked))
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return DeliveryError(
            f"The TLS certificate of {host} could not be verified: "
            f"{exc.certificate_error}."
        )
    if isinstance(exc, aiohttp.ClientSSLError):
        return DeliveryError(f"The TLS handshake with {host} failed: {exc}.")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return DeliveryError(
            f"Could not connect to {host} within {CONNECT_TIMEOUT_S} s."
        )
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return DeliveryError(f"{host} did not answer within {TOTAL_TIMEOUT_S} s.")
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return DeliveryError(f"The host name {host} could not be resolved.")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return DeliveryError(f"Could not connect to {host}: {exc.os_error}.")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return DeliveryError(f"{host} closed the connection without an answer.")
    # Only the class name: the text of other errors may carry the full URL,
    # which must not reach the logs.
    return DeliveryError(f"The request to {host} failed ({type(exc).__name__}).")


async def _read_capped(stream: aiohttp.StreamReader) -> bytes:
    chunks: list[bytes] = []
    left = MAX_RESPONSE_BODY_BYTES
    while left > 0 and not stream.at_eof():
        # at_eof: a small body usually comes with its end, and asking for
        # more would cost another read to learn there is none.
        chunk = await stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
