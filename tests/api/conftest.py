"""Fixtures of the REST API tests: a station's key and a client using it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from hookcast.stations.models import ApiKey, Station

BASE = "/api/v1/"


class ApiClient:
    """Django's test client speaking JSON with one station's API key."""

    def __init__(self, raw_key: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        **query: Any,
    ) -> Any:
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        kwargs: dict[str, Any] = {"headers": {**self.headers, **(headers or {})}}
        if method == "get":
            return self.client.get(BASE + path, query, **kwargs)
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return getattr(self.client, method)(BASE + path, **kwargs)

    def get(self, path: str, **query: Any) -> Any:
        return self.request("get", path, **query)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("post", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("patch", path, body, **kwargs)

    def delete(self, path: str) -> Any:
        return self.request("delete", path)


@pytest.fixture
def api(station: Station) -> ApiClient:
    _, raw = ApiKey.issue(station, name="tests")
    return ApiClient(raw)


@pytest.fixture
def other_station(db: None) -> Station:
    return Station.objects.create(subdomain="otherfm", name="Other FM", timezone="UTC")


@pytest.fixture
def other_api(other_station: Station) -> ApiClient:
    _, raw = ApiKey.issue(other_station)
    return ApiClient(raw)
