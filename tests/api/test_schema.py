"""OpenAPI: the schema validates without warnings, names every operation's scopes and errors, the docs
are served from the bank itself, and Schemathesis finds no 500 and no response outside the schema."""

import io
import json
import os

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bank.api import views
from connections import scopes
from tests.factories import main_and_savings, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema_document():
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_the_schema_validates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert '"openapi": "3.0.3"' in out.getvalue()


def test_every_operation_names_its_scopes_and_problem_responses(schema_document):
    operations = {
        (path, method): operation
        for path, item in schema_document["paths"].items()
        for method, operation in item.items()
    }
    payments = operations[("/api/v1/monetary-accounts/{account_pk}/payments/", "post")]
    assert payments["security"] == [{"oauth2": ["payments:internal"]}]
    assert {"400", "401", "403", "404", "409", "422", "429"} <= set(payments["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in payments["parameters"])
    assert "TransferMade" in payments["responses"]["201"]["content"]["application/json"]["examples"]
    refused = payments["responses"]["403"]["content"]["application/problem+json"]["examples"]["SomeoneElsesAccount"]
    assert refused["value"]["code"] == "use_draft_payment"
    cards = operations[("/api/v1/cards/", "get")]
    assert cards["security"] == [{"oauth2": [s]} for s in ("cards:link", "cards:order", "cards:manage")]
    for (path, method), operation in operations.items():
        assert operation.get("security"), (path, method)
        assert "401" in operation["responses"], (path, method)
        problem = operation["responses"]["401"]["content"]["application/problem+json"]["schema"]
        assert problem == {"$ref": "#/components/schemas/Problem"}
    scopes = schema_document["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]["scopes"]
    assert "payments:internal" in scopes and "cards:link" in scopes
    assert views.PaymentViewSet.required_scopes_by_action["create"] == [["payments:internal"]]


def test_the_public_contract_speaks_to_integrators_not_to_us(schema_document):
    """No internal wording (our spec's section numbers, internal notes) in what integrators read."""
    text = json.dumps(schema_document)
    assert "SPEC" not in text and "§" not in text.replace("RFC 9457 §", "")
    for guide in (django_settings.BASE_DIR / "docs" / "guides").glob("*.md"):
        assert "SPEC" not in guide.read_text(), guide.name


def test_the_docs_page_is_served_with_its_own_assets():
    client = APIClient()
    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    script = client.get("/api/docs/", {"script": ""})  # no inline script: the page passes CSP
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()
    assert '<script src="/api/docs/?script="></script>' in html and "<script>" not in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html  # no third-party script on a bank page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    # For reading only: no Authorize button (apps get tokens from their own server) and no "Try it out".
    assert '<link rel="stylesheet" href="/static/api-docs.css">' in html
    css = (django_settings.BASE_DIR / "static" / "api-docs.css").read_text()
    assert ".swagger-ui .auth-wrapper" in css and "display: none" in css
    assert '"supportedSubmitMethods": []' in script.content.decode()


# --- Schemathesis, against the app's own /api/schema/ -------------------------------------------

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def in_process_requests():
    """Like Django's test client: requests through the WSGI handler must not close the test's
    database connection (and with it the transaction that holds the test data)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def customer(alice, bob, in_process_requests):
    make_account(bob, balance="10.00")
    main, savings = main_and_savings(alice, "1000.00")
    return alice, main, savings


# Token profiles that matter: everything, only reading, a single narrow scope, and a forged token.
PROFILES = {
    "every scope": (scopes.ALL, 50),
    "read-only scopes": (scopes.READ_ONLY, 15),
    "one card scope": (("cards:link",), 15),
    "forged token": (None, 15),
}
# A longer run: SCHEMATHESIS_EXAMPLES=500 make test PYTEST_ARGS="tests/api/test_schema.py"
SCALE = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "0"))


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
def test_the_api_keeps_to_its_schema_and_never_fails(customer, connect, profile):
    """Every operation, with generated input (bounded), through the WSGI app: no 500, no response
    outside the schema (status, content type, body, headers)."""
    alice, main, savings = customer
    granted, examples = PROFILES[profile]
    token = connect(alice, scopes=granted, accounts=[main, savings]).token if granted else "forged-" + "x" * 36
    api = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    operations = [result.ok() for result in api.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 16

    calls: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=SCALE or examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case):
            if "account_pk" in (case.path_parameters or {}):
                case.path_parameters["account_pk"] = main.pk  # reach real objects, not only 404s
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
            calls.append(1)

        exercise()
    print(f"schemathesis, {profile}: {len(calls)} generated requests over {len(operations)} operations")
    assert len(calls) >= len(operations)
