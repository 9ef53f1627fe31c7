"""What helps an integrator when something goes wrong: a request id on every response (echoed when
the client sent a sane one) and in every log line of that request, the rate limits stated on every
API response, and a missing trailing slash that redirects with the method kept instead of failing."""

import logging

import pytest
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from connections.call_log import api_calls_of
from connections.models import Application
from tests.factories import make_account, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(alice, connect):
    return connect(alice, accounts=[make_account(alice)])


def test_every_response_has_a_request_id_and_a_sane_one_sent_is_echoed(app):
    mine = app.client.get("/api/v1/me/", HTTP_X_REQUEST_ID="checkout-7f3a:retry.2")
    fresh = app.client.get("/api/v1/me/")
    page = Client().get("/accounts/login/")

    assert mine["X-Request-ID"] == "checkout-7f3a:retry.2"
    assert len(fresh["X-Request-ID"]) == 32 and fresh["X-Request-ID"] != page["X-Request-ID"]


@pytest.mark.parametrize("sent", ["with space", "x" * 129, "semi;colon", "new\\nline", ""])
def test_an_id_that_is_not_plain_is_replaced(app, sent):
    response = app.client.get("/api/v1/me/", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent and len(response["X-Request-ID"]) == 32


def test_the_log_lines_of_a_request_carry_its_id_even_for_a_404(app, caplog):
    from bank.core.request_ids import RequestIdFilter

    handler_filter = RequestIdFilter()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        caplog.handler.addFilter(handler_filter)
        response = app.client.get("/api/v1/nothing-here/", HTTP_X_REQUEST_ID="support-case-42")
        caplog.handler.removeFilter(handler_filter)

    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert [r.request_id for r in caplog.records if r.name == "django.request"] == ["support-case-42"]


def test_api_responses_state_the_rate_limits(app, settings):
    read = app.client.get("/api/v1/me/")
    again = app.client.get("/api/v1/me/")
    write = app.client.post(
        "/api/v1/notification-filters/",
        {"category": "PAYMENT", "notification_target": "https://hooks.example/x"},
        format="json",
    )

    quota = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["connection"].split("/")[0]
    writes = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["connection_writes"].split("/")[0]
    assert read["RateLimit-Policy"] == f'"connection";q={quota};w=60'
    remaining = int(read["RateLimit"].split(";r=")[1].split(";")[0])
    assert int(again["RateLimit"].split(";r=")[1].split(";")[0]) == remaining - 1
    assert write["RateLimit-Policy"] == f'"connection";q={quota};w=60, "connection_writes";q={writes};w=60'
    assert f'"connection_writes";r={int(writes) - 1};t=' in write["RateLimit"]


def test_a_429_says_when_to_come_back(alice, connect, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"connection": "2/min", "connection_writes": "1/min"})
    app = connect(alice, accounts=[make_account(alice)])
    statuses = [app.client.get("/api/v1/me/") for _ in range(3)]
    refused = statuses[-1]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert refused["RateLimit"].startswith('"connection";r=0;t=') and int(refused["Retry-After"]) >= 1
    assert refused["RateLimit-Policy"] == '"connection";q=2;w=60'


def test_a_post_without_the_trailing_slash_is_redirected_with_its_method_never_a_500(app, settings):
    for debug in (False, True):
        settings.DEBUG = debug
        response = app.client.post("/api/v1/notification-filters?x=1", {"category": "PAYMENT"}, format="json")
        assert response.status_code == 308 and response["Location"] == "/api/v1/notification-filters/?x=1"
        unknown = app.client.post("/api/v1/no-such-thing", {}, format="json")
        assert unknown.status_code == 404 and unknown["Content-Type"] == "application/problem+json"


def test_each_call_is_in_its_apps_log_for_the_developer_and_nobody_else(app, alice, bob, django_assert_num_queries):
    application = app.connection.application
    Application.objects.filter(pk=application.pk).update(user=alice)
    app.client.get("/api/v1/me/?page_size=5", HTTP_X_REQUEST_ID="case-1")
    app.client.post("/api/v1/notification-filters/", {"category": "NOPE"}, format="json", HTTP_X_REQUEST_ID="case-2")
    Client().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer not-a-token")  # no app to log it for

    calls = [(c.method, c.path, c.status, c.request_id) for c in api_calls_of(application_id=application.pk)]
    assert calls == [
        ("POST", "/api/v1/notification-filters/", 400, "case-2"),
        ("GET", "/api/v1/me/", 200, "case-1"),
    ]
    developer = Client()
    developer.force_login(alice)
    page = developer.get(f"/developers/{application.pk}/calls/").content.decode()
    assert "case-1" in page and "case-2" in page and app.token not in page and "page_size" not in page
    found = developer.get(f"/developers/{application.pk}/calls/", {"request_id": "case-2"}).content.decode()
    assert "case-2" in found and "case-1" not in found
    stranger = Client()
    stranger.force_login(bob)
    assert stranger.get(f"/developers/{application.pk}/calls/").status_code == 404


def test_calls_older_than_the_log_days_are_not_shown(app, settings):
    app.client.get("/api/v1/me/", HTTP_X_REQUEST_ID="old")
    settings.API_CALL_LOG_DAYS = 0

    assert api_calls_of(application_id=app.connection.application_id) == []


def test_in_redis_the_log_is_one_capped_list_per_app_that_expires(app, settings, monkeypatch):
    """As in production: the log is in the shared Redis, so every server process sees every call."""
    from bank.core.cache import BankRedisCache
    from connections import call_log
    from tests.test_production import REDIS_URL

    monkeypatch.setattr(call_log, "cache", BankRedisCache(REDIS_URL, {"KEY_PREFIX": "test-call-log"}))
    monkeypatch.setattr(call_log, "KEEP", 3)
    client = call_log._redis()
    key = call_log._key(app.connection.application_id)
    client.delete(key)
    try:
        for n in range(5):
            app.client.get("/api/v1/me/", HTTP_X_REQUEST_ID=f"call-{n}")
        assert client.llen(key) == 3 and 0 < client.ttl(key) <= settings.API_CALL_LOG_DAYS * 86400
        shown = call_log.api_calls_of(application_id=app.connection.application_id)
        assert [c.request_id for c in shown] == ["call-4", "call-3", "call-2"]
    finally:
        client.delete(key)


def test_every_timestamp_in_the_api_and_in_callbacks_is_utc_with_z(app, alice):

    from bank.core.events import event_data
    from bank.models import Event

    main, savings = make_account(alice, balance="10.00"), make_account(alice, type="SAVINGS")
    me = app.client.get("/api/v1/me/").json()
    pay(alice, main, "1.00", savings.iban)  # made outside any API request, as the customer's own pages and the jobs do

    assert me["expires_at"].endswith("Z")
    event = Event.objects.filter(type="payment.created").latest("created")
    assert event_data(event)["created"].endswith("Z")
