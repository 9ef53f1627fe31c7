"""An integrator's first hour, in the sandbox, end to end through the bank's own pages and endpoints:
register an app, make a test customer, connect with a write scope, pay, run into the rate limit and
read its headers, find the call in the app's log by its request id, and replace the client secret
with an overlap during which both work."""

import re
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from bank.models import MonetaryAccount, Payment
from connections.models import Application
from tests.connections.oauth_helpers import answer_consent, authorize_url, pkce_pair, token_request
from tests.factories import transfer_body

pytestmark = pytest.mark.django_db

REDIRECT = "https://piggy.example/callback"
CONFIDENTIAL = Application.CLIENT_CONFIDENTIAL
WRITE = "accounts:read payments:internal"


def shown(response, label: str) -> str:
    match = re.search(rf"<dt>{label}</dt><dd><code[^>]*>([^<]+)</code>", response.content.decode())
    assert match, f"no {label} on the page"
    return match.group(1)


def test_the_integrators_journey_in_the_sandbox(settings, alice, django_user_model, monkeypatch):
    settings.BANK_SANDBOX = True
    developer = Client()
    developer.force_login(alice)

    # Register: the client id and the secret, shown once.
    registered = developer.post(
        "/developers/new/",
        {
            "name": "Piggy Bank",
            "website": "https://piggy.example",
            "redirect_uris": REDIRECT,
            "client_type": "confidential",
        },
    )
    client_id, secret = shown(registered, "Client id"), shown(registered, "Client secret")
    application = Application.objects.get(client_id=client_id)
    assert not application.verified and "payments:internal" not in application.allowed_scope_list()

    # A test customer with demo money.
    made = developer.post("/developers/test-customers/")
    tester = django_user_model.objects.get(username=shown(made, "Username"))
    main, savings = MonetaryAccount.objects.filter(owner=tester).order_by("id")

    # The test customer connects the unreviewed app with a write scope.
    browser = Client()
    browser.force_login(tester)
    verifier, challenge = pkce_pair()
    page = browser.get(
        authorize_url(
            client_id=client_id, redirect_uri=REDIRECT, challenge=challenge, scope="accounts:read payments:internal"
        )
    )
    back = parse_qs(urlsplit(answer_consent(browser, page)["Location"]).query)
    app = Client()
    tokens = token_request(
        app,
        {
            "grant_type": "authorization_code",
            "code": back["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        client_id=client_id,
        secret=secret,
    ).json()
    assert tokens["scope"] == "accounts:read payments:internal"
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}

    # A payment between the test customer's own accounts.
    paid = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        transfer_body("12.50", savings, name="Test Customer", description="Round-up"),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        **bearer,
    )
    assert paid.status_code == 201, paid.content
    payment_request_id = paid["X-Request-ID"]
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-12.50")).count() == 1

    # The rate limit: the headers say what is left, a 429 says how long to wait.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"connection": "2/min", "connection_writes": "1/min"})
    first = app.get("/api/v1/monetary-accounts/", **bearer)
    assert first.status_code == 200 and first["RateLimit-Policy"] == '"connection";q=2;w=60'
    answers = [app.get("/api/v1/monetary-accounts/", **bearer) for _ in range(2)]
    throttled = answers[-1]
    assert throttled.status_code == 429 and throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0 and re.fullmatch(r'"connection";r=0;t=\d+', throttled["RateLimit"])
    assert urlsplit(throttled.json()["type"]).path == "/developers/problems/throttled/"

    # Support: the payment's call, found in the app's log by its request id.
    log = developer.get(f"/developers/{application.pk}/calls/", {"request_id": payment_request_id}).content.decode()
    assert payment_request_id in log and f"/api/v1/monetary-accounts/{main.pk}/payments/" in log and "201" in log

    # A new secret, with the old one working for a day while the app's servers switch.
    rotated = developer.post(f"/developers/{application.pk}/rotate-secret/", {"overlap_days": "1"})
    new_secret = shown(rotated, "Client secret")
    assert new_secret != secret and "The previous secret also works until" in rotated.content.decode()
    with_old = token_request(
        app, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, client_id, secret
    )
    assert with_old.status_code == 200, with_old.content
    with_new = token_request(
        app, {"grant_type": "refresh_token", "refresh_token": with_old.json()["refresh_token"]}, client_id, new_secret
    )
    assert with_new.status_code == 200, with_new.content
