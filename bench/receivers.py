"""HTTPS receivers on loopback for the benchmarks.

``nginx`` (Debian's package) when it is installed, since it answers far
faster than anything hookcast can send; otherwise a Python receiver in its
own process. Both answer every request with 200 and keep connections alive.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
)

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
{servers}
}}
"""
NGINX_SERVER = """\
    server {{
        listen {host}:{port} ssl;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        client_body_buffer_size 64k;
        location / {{ return 200 "ok"; }}
    }}
"""

# Arguments: host, port, certificate, key, and "record" to print each
# call's sender_id and the time it arrived, for latency measurements.
PYTHON_RECEIVER = """\
import json, ssl, sys, time
from aiohttp import web

RECORD = sys.argv[5:] == ["record"]

async def ok(request):
    body = await request.read()
    if RECORD:
        now = time.time()
        sys.stdout.write("%d %.6f\\n" % (json.loads(body)["sender_id"], now))
        sys.stdout.flush()
    return web.Response(text="ok")

context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(sys.argv[3], sys.argv[4])
app = web.Application()
app.router.add_route("*", "/{tail:.*}", ok)
web.run_app(app, host=sys.argv[1], port=int(sys.argv[2]), ssl_context=context,
            print=None, access_log=None)
"""


@dataclass(frozen=True)
class TLS:
    directory: Path
    ca_bundle: Path


def make_tls(directory: Path, hosts: list[str]) -> TLS:
    ca = trustme.CA()
    cert = ca.issue_cert(*hosts, "localhost")
    cert.cert_chain_pems[0].write_to_path(str(directory / "cert.pem"))
    for pem in cert.cert_chain_pems[1:]:
        with open(directory / "cert.pem", "ab") as handle:
            handle.write(pem.bytes())
    cert.private_key_pem.write_to_path(str(directory / "key.pem"))
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    return TLS(directory, directory / "ca.pem")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_listening(host: str, port: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout_s} s")


@contextlib.contextmanager
def receivers(
    hosts: list[str], prefer_nginx: bool = True
) -> Iterator[tuple[str, TLS, list[str]]]:
    """Start one receiver per host; yields (kind, tls, base URLs)."""
    with tempfile.TemporaryDirectory(prefix="hookcast-bench-") as tmp:
        directory = Path(tmp)
        tls = make_tls(directory, sorted(set(hosts)))
        ports = [free_port(host) for host in hosts]
        processes: list[subprocess.Popen[bytes]] = []
        if NGINX and prefer_nginx:
            kind = "nginx"
            servers = "".join(
                NGINX_SERVER.format(host=h, port=p, dir=directory)
                for h, p in zip(hosts, ports, strict=True)
            )
            conf = directory / "nginx.conf"
            conf.write_text(NGINX_CONF.format(dir=directory, servers=servers))
            processes.append(
                subprocess.Popen([NGINX, "-c", str(conf), "-p", str(directory)])
            )
        else:
            kind = "python-aiohttp"
            script = directory / "receiver.py"
            script.write_text(PYTHON_RECEIVER)
            for host, port in zip(hosts, ports, strict=True):
                processes.append(
                    subprocess.Popen(
                        [sys.executable, str(script), host, str(port),
                         str(directory / "cert.pem"), str(directory / "key.pem")]
                    )
                )  # fmt: skip
        try:
            for host, port in zip(hosts, ports, strict=True):
                wait_listening(host, port)
            yield (
                kind,
                tls,
                [f"https://{h}:{p}" for h, p in zip(hosts, ports, strict=True)],
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
