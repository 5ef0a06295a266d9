"""Django settings, read from the environment (SPEC section 6).

Every ``HOOKCAST_*`` variable is read once here into a Django setting; code
reads the Django setting when it needs it, never at import time, so tests can
override any of them with ``override_settings``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

DATA_DIR = Path(os.environ.get("HOOKCAST_DATA_DIR", ".hookcast")).resolve()


def database_from_url(url: str, data_dir: Path) -> dict[str, object]:
    """Translate ``HOOKCAST_DATABASE_URL`` into a Django ``DATABASES`` entry.

    ``sqlite:///relative.db``, ``sqlite:////absolute.db`` and
    ``postgresql://user:password@host:port/name?sslmode=...`` are understood.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        name = unquote(parts.path[1:]) if parts.path.startswith("/") else parts.path
        return sqlite_database(Path(name) if name else data_dir / "hookcast.sqlite3")
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "hookcast",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"HOOKCAST_DATABASE_URL has the scheme {parts.scheme!r}; "
        "use sqlite:///path or postgresql://user@host/name."
    )


def sqlite_database(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets the web role read while the worker writes; IMMEDIATE
            # takes the write lock at BEGIN, so two writers queue on the busy
            # timeout instead of failing with "database is locked" mid-way.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; "
                "PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        "TEST": {"NAME": str(path.with_name("test-" + path.name))},
    }


def networks(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def retry_schedule(value: str) -> list[float]:
    try:
        return [float(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"HOOKCAST_RETRY_SCHEDULE must be comma-separated seconds, got {value!r}"
        ) from exc


def _secret_key() -> str:
    if key := os.environ.get("HOOKCAST_SECRET_KEY"):
        return key
    # Generated once per data directory, so sessions survive restarts without
    # the operator having to invent a key for a local installation.
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    from django.utils.crypto import get_random_string

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = get_random_string(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("HOOKCAST_DEBUG", "") == "1"
ALLOWED_HOSTS = networks(os.environ.get("HOOKCAST_ALLOWED_HOSTS", "*"))
CSRF_TRUSTED_ORIGINS = networks(os.environ.get("HOOKCAST_CSRF_TRUSTED_ORIGINS", ""))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "hookcast.stations",
    "hookcast.records",
    "hookcast.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hookcast.stations.middleware.StationTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hookcast.urls"
WSGI_APPLICATION = "hookcast.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(os.environ["HOOKCAST_DATABASE_URL"], DATA_DIR)
    if os.environ.get("HOOKCAST_DATABASE_URL")
    else sqlite_database(DATA_DIR / "hookcast.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# The API rejects larger bodies with 413 (issue: REST API, errors).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "hookcast": {
            "level": os.environ.get("HOOKCAST_LOG_LEVEL", "INFO"),
            "propagate": True,
        },
    },
}

# hookcast's own settings (SPEC section 6). Each is read where it is used.
HOOKCAST_HOST, _, _port = os.environ.get("HOOKCAST_HOST", "127.0.0.1").partition(":")
HOOKCAST_PORT = int(os.environ.get("HOOKCAST_PORT", _port or "8000"))
HOOKCAST_ALLOWED_NETWORKS = networks(os.environ.get("HOOKCAST_ALLOWED_NETWORKS", ""))
HOOKCAST_CA_BUNDLE = os.environ.get("HOOKCAST_CA_BUNDLE", "")
# Delays before attempts 2 to 8, in seconds (SPEC section 5).
HOOKCAST_RETRY_SCHEDULE = retry_schedule(
    os.environ.get("HOOKCAST_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000")
)
HOOKCAST_RETRY_JITTER = float(os.environ.get("HOOKCAST_RETRY_JITTER", "0.2"))
HOOKCAST_MAX_IN_FLIGHT_PER_HOST = int(
    os.environ.get("HOOKCAST_MAX_IN_FLIGHT_PER_HOST", "16")
)
HOOKCAST_RETENTION_DAYS = int(os.environ.get("HOOKCAST_RETENTION_DAYS", "30"))
# How long a worker owns the calls it claimed; a crashed worker's calls are
# claimed again by another once this has passed. Longer than the 15 s total
# timeout of one attempt, so a live worker never loses a call it is sending.
HOOKCAST_LEASE_S = float(os.environ.get("HOOKCAST_LEASE_S", "60"))
# Where no wake-up reaches the worker (SQLite with separate processes), it
# looks for due calls this often.
HOOKCAST_POLL_INTERVAL_S = float(os.environ.get("HOOKCAST_POLL_INTERVAL_S", "1"))
