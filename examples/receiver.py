"""A local HTTPS endpoint that prints the webhook calls it receives.

For trying hookcast on one machine: it makes a throw-away certificate
authority with ``trustme`` (``pip install trustme``), writes the CA to
``.hookcast/receiver-ca.pem`` for ``HOOKCAST_CA_BUNDLE``, and serves
https://127.0.0.1:9443/. With ``WEBHOOK_SECRET`` set to the webhook's signing
secret it checks each call's signature as a receiver should.

    python examples/receiver.py [--port 9443]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import ssl
from pathlib import Path
from urllib.parse import unquote

import trustme
from aiohttp import web


def signature_ok(secret: str, headers: dict[str, str], content: bytes) -> bool:
    """Standard Webhooks: v1 signatures over ``id.timestamp.content``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message = b"%s.%s.%s" % (
        headers["webhook-id"].encode(),
        headers["webhook-timestamp"].encode(),
        content,
    )
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest())
    return any(
        hmac.compare_digest(expected, sig.removeprefix("v1,").encode())
        for sig in headers.get("webhook-signature", "").split()
    )


async def handle(request: web.Request) -> web.Response:
    body = await request.read()
    content = (
        body
        if request.method == "POST"
        else request.raw_path.partition("?")[2].encode()
    )
    headers = {k.lower(): v for k, v in request.headers.items()}
    print(f"\n{request.method} {request.path}  webhook-id: {headers.get('webhook-id')}")
    if secret := os.environ.get("WEBHOOK_SECRET"):
        verdict = "valid" if signature_ok(secret, headers, content) else "INVALID"
        print(f"signature: {verdict}")
    if request.method == "POST":
        print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    else:
        for pair in content.decode().split("&"):
            print("  " + unquote(pair))
    return web.Response(text="ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9443)
    args = parser.parse_args()

    ca = trustme.CA()
    ca_path = Path(os.environ.get("HOOKCAST_DATA_DIR", ".hookcast")) / "receiver-ca.pem"
    ca_path.parent.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)

    print(
        f"CA certificate written to {ca_path}; endpoint https://127.0.0.1:{args.port}/"
    )
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=args.port, ssl_context=context, print=None)


if __name__ == "__main__":
    main()
