"""``hookcast up``, the README's run command, in a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password

HOOKCAST = Path(sys.executable).with_name("hookcast")
START_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_up(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """Run ``hookcast up`` until /healthz answers; return it and its output."""
    env = {**os.environ, "HOOKCAST_DATA_DIR": str(data_dir), "HOOKCAST_PORT": str(port)}
    env.pop("HOOKCAST_DATABASE_URL", None)
    process = subprocess.Popen(
        [str(HOOKCAST), "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    assert process.stdout is not None
    deadline = time.monotonic() + START_S
    for line in process.stdout:
        output.append(line)
        if "hookcast is serving" in line or time.monotonic() > deadline:
            break
    return process, "".join(output)


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()


def get_json(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_up_creates_the_station_and_an_admin_then_serves(tmp_path: Path) -> None:
    port = free_port()
    process, output = start_up(tmp_path, port)
    try:
        assert "Created the station developerfm (Australia/Melbourne)." in output
        match = re.search(r"superuser admin with the password (\S+)", output)
        assert match, output
        assert get_json(f"http://127.0.0.1:{port}/healthz")["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as page:
            assert b"hookcast" in page.read()
    finally:
        assert stop(process) == 0

    database = sqlite3.connect(tmp_path / "hookcast.sqlite3")
    (encoded,) = database.execute(
        "SELECT password FROM auth_user WHERE username = 'admin' AND is_superuser"
    ).fetchone()
    assert check_password(match.group(1), encoded)
    assert database.execute(
        "SELECT timezone FROM stations_station WHERE subdomain = 'developerfm'"
    ).fetchone() == ("Australia/Melbourne",)

    # A second start keeps both, and shows no password again.
    process, output = start_up(tmp_path, port)
    try:
        assert "password" not in output
        assert "Created" not in output
    finally:
        assert stop(process) == 0


@pytest.mark.parametrize("args", [[], ["--help"]])
def test_the_command_lists_its_commands(args: list[str]) -> None:
    result = subprocess.run(
        [str(HOOKCAST), *args], capture_output=True, text=True, check=True
    )
    for command in ("up", "web", "worker", "station create", "apikey create", "purge"):
        assert command in result.stdout
