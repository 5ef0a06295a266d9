"""Headless Chromium, driven by Playwright, against the live test server.

Without Playwright or Chromium these tests skip with the reason, except in CI
(``CI`` set), where they fail. They run once, on SQLite: on a PostgreSQL run
they skip, because the panel does not depend on the database.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PAGE_TIMEOUT_MS = 15_000  # Generous: only a real failure runs into it.


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright's Python package is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


# Module scope, not session: Playwright's sync API keeps an event loop running
# in the test's thread while it is open, which would break later tests that
# start one of their own (asyncio.run).
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("browser tests run once, on SQLite")
    if problem := _missing():
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; CI must run the browser tests.")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # That running loop would also make Django's async guard take the
        # test's own ORM calls for async code; it is allowed here only.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 1000}
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()
