"""The payload of a call: POST body and GET query (SPEC section 4)."""

from __future__ import annotations

import json

import pytest

from hookcast.webhooks.payload import Payload, encode_query, get_url

SENDER = {"id": 7, "first_name": "John", "dob": None, "address2": "", "vip": True}


@pytest.fixture
def payload() -> Payload:
    return Payload(
        event="Listener.updated",
        sent_at="2020-03-18T17:41:56.555+11:00",
        station="developerfm",
        sender_id=7,
        sender_json=json.dumps(SENDER),
        call_id="2ae54ecb-930f-4a7a-974d-d84788d9dd12",
    )


def test_post_body_is_json_with_the_six_keys_in_order(payload):
    body = json.loads(payload.post_body())

    assert list(body) == [
        "event", "sentAt", "station", "sender_id", "sender", "webhookCallId"
    ]  # fmt: skip
    assert body == payload.as_dict()
    assert body["sender"] == SENDER
    assert list(body["sender"]) == list(SENDER)


def test_post_body_keeps_non_ascii_text_as_utf8(payload):
    sender = json.dumps({"first_name": "Zoë"}, ensure_ascii=False)
    body = Payload("E.created", "t", "s", 1, sender, "c").post_body()
    assert json.loads(body.decode("utf-8"))["sender"]["first_name"] == "Zoë"


@pytest.mark.parametrize(
    ("data", "query"),
    [
        # Nested objects use brackets, percent-encoded as qs.stringify does.
        ({"sender": {"first_name": "John"}}, "sender%5Bfirst_name%5D=John"),
        # Null is an empty value; booleans are words.
        ({"a": None, "b": True, "c": False}, "a=&b=true&c=false"),
        # Lists of scalars repeat the key with empty brackets.
        ({"tags": ["a", "b"]}, "tags%5B%5D=a&tags%5B%5D=b"),
        # Lists of objects keep their index so their fields stay together.
        ({"l": [{"x": 1}]}, "l%5B0%5D%5Bx%5D=1"),
        # Reserved characters in values are encoded; unreserved ones are not.
        ({"e": "a+b@c.d & e=f ~_"}, "e=a%2Bb%40c.d%20%26%20e%3Df%20~_"),
    ],
)
def test_query_uses_bracket_notation(data, query):
    assert encode_query(data) == query


def test_query_starts_with_the_six_keys_in_order(payload):
    names = [pair.split("=")[0] for pair in payload.query().split("&")]
    assert names[:4] == ["event", "sentAt", "station", "sender_id"]
    assert names[-1] == "webhookCallId"
    assert "sender%5Bfirst_name%5D" in names


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("https://a.test/hook", "https://a.test/hook?x=1"),
        # The endpoint's own query string is kept, ours appended.
        ("https://a.test/hook?token=abc", "https://a.test/hook?token=abc&x=1"),
        ("https://a.test:8443/?", "https://a.test:8443/?x=1"),
    ],
)
def test_get_url_appends_to_the_endpoints_own_query(endpoint, url):
    assert get_url(endpoint, "x=1") == url
