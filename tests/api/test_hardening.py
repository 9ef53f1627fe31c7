"""Hostile input at the API is answered as problem details, never a 500 or an HTML page, and no
response may be cached by a browser or a proxy."""

import base64
import json

import pytest

from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(alice, connect):
    main = make_account(alice, balance="10.00")
    return connect(alice, accounts=[main]), main


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_deeply_nested_json_is_a_400_problem(app):
    connected, main = app
    body = "[" * 100_000 + "]" * 100_000
    response = connected.client.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/", body, content_type="application/json"
    )
    assert_problem(response, 400, "parse_error")


@pytest.mark.parametrize(
    "cursor",
    [
        base64.b64encode(b"p=not-a-number").decode(),
        base64.b64encode(b"p=1&o=-5").decode(),
        base64.b64encode(b"p=1&o=999999999999999999999").decode(),
        base64.b64encode(b"p=99999999999999999999999999999").decode(),
        base64.b64encode(b"r=1&p=%00").decode(),
    ],
)
def test_a_forged_cursor_is_a_400_problem(app, cursor):
    connected, main = app
    response = connected.get(f"/api/v1/monetary-accounts/{main.pk}/payments/", cursor=cursor)
    assert_problem(response, 400, "invalid")
    assert response.json()["errors"][0]["code"] == "invalid_cursor"


def test_a_body_over_the_size_limit_is_a_413_problem(app, settings):
    connected, main = app
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"description": "x" * 20_000})
    response = connected.client.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/", body, content_type="application/json"
    )
    assert_problem(response, 413, "request_too_large")


@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/monetary-accounts/", "/api/v1/nowhere/"])
def test_api_responses_are_never_cached(app, client, path):
    connected, _ = app
    for response in (connected.get(path), client.get(path)):
        assert "no-store" in response["Cache-Control"]
