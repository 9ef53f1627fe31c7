"""Client metadata (SPEC §8): set by the developer at /developers/ and by staff on the review page,
the key set checked before it is stored, and money-moving scopes only for FAPI 2.0 apps unless the
deployment lets bearer apps move money."""

import ast
import json
import re
from html import unescape

import pytest
from django.test import Client

from bank.core.errors import ErrorCode, PermissionDenied
from bank.models import AuditEvent
from bank.vocabulary import AuditAction
from connections import scopes
from connections.models import Application
from connections.services.vetting import application_review
from tests.connections.fapi_helpers import Key, make_fapi_application
from tests.connections.oauth_helpers import make_application, register_by_form
from tests.factories import StaffFactory, transfer_body

pytestmark = pytest.mark.django_db

FAPI_FIELDS = {
    "token_endpoint_auth_method": "private_key_jwt",
    "dpop_bound_access_tokens": "on",
    "require_pushed_authorization_requests": "on",
}


def test_a_developer_registers_a_fapi_app_with_their_public_keys(client, alice):
    key = Key(kid="piggy-1")
    client.force_login(alice)

    response = register_by_form(client, jwks=json.dumps({"keys": [key.public_jwk]}, indent=2), **FAPI_FIELDS)

    assert response.status_code == 200
    application = Application.objects.get()
    assert application.is_fapi and json.loads(application.jwks) == {"keys": [key.public_jwk]}
    event = AuditEvent.objects.get(action=AuditAction.APPLICATION_REGISTERED)
    assert event.data["jwks_kids"] == ["piggy-1"] and "x" not in json.dumps(event.data["jwks_kids"])
    page = client.get(f"/developers/{application.pk}/").content.decode()
    for name in (
        "token_endpoint_auth_method",
        "jwks",
        "dpop_bound_access_tokens",
        "require_pushed_authorization_requests",
    ):
        assert f'name="{name}"' in page


def test_a_pasted_private_key_is_refused_not_stored_and_not_shown_again(client, alice):
    key = Key()
    private = {**key.private.as_dict(private=True), "kid": "oops"}
    client.force_login(alice)

    response = register_by_form(client, jwks=json.dumps({"keys": [private]}), **FAPI_FIELDS)

    page = response.content.decode()
    assert response.status_code == 200 and "This is a private key" in page
    assert private["d"] not in page
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("jwks", "message"),
    [
        ("not json", "The key set is JSON"),
        ('{"keys": []}', "with 1 to 10 keys"),
        (json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]}), "This is a private key"),
        ("RS256", "alg is one of ES256, PS256, EdDSA"),
        ("duplicate kids", "Every key has its own"),
        ("no kid", "Every key has its own"),
        ("P-384", "Keys are EC P-256 (ES256)"),
    ],
)
def test_a_bad_key_set_is_refused_with_a_clear_message(client, alice, jwks, message):
    public = Key(kid="a").public_jwk
    jwks = {
        "RS256": json.dumps({"keys": [{**public, "alg": "RS256"}]}),
        "duplicate kids": json.dumps({"keys": [public, Key(kid="a").public_jwk]}),
        "no kid": json.dumps({"keys": [{k: v for k, v in public.items() if k != "kid"}]}),
        "P-384": json.dumps({"keys": [{**public, "crv": "P-384"}]}),
    }.get(jwks, jwks)
    client.force_login(alice)

    response = register_by_form(client, jwks=jwks, **FAPI_FIELDS)

    assert message in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"token_endpoint_auth_method": "private_key_jwt"}, "private_key_jwt needs the app&#x27;s public keys"),
        ({"client_type": "public", "token_endpoint_auth_method": "client_secret_basic"}, "A public client"),
        ({"token_endpoint_auth_method": "none"}, "A public client"),
    ],
)
def test_inconsistent_metadata_is_refused(client, alice, fields, message):
    client.force_login(alice)
    response = register_by_form(client, **fields)
    assert message in response.content.decode() and not Application.objects.exists()


def test_a_vetted_app_that_stops_being_fapi_goes_back_to_review(client, alice):
    key = Key()
    client.force_login(alice)
    register_by_form(client, jwks=key.jwks, **FAPI_FIELDS)
    application = Application.objects.get()
    Application.objects.filter(pk=application.pk).update(review_requested_at=None, verified=True)

    data = {
        "name": "Piggy Bank",
        "website": "https://piggy.example",
        "redirect_uris": "https://piggy.example/callback",
        "client_type": "confidential",
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": key.jwks,
        "dpop_bound_access_tokens": "on",
    }
    client.post(f"/developers/{application.pk}/", data)

    application.refresh_from_db()
    assert not application.is_fapi and application.review_requested_at is not None and not application.verified


# --- staff and money ------------------------------------------------------------------------------


@pytest.fixture
def staff_user():
    return StaffFactory(username="ops-anna")


@pytest.fixture
def staff(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def test_staff_cannot_allow_money_to_a_bearer_app_by_default(settings, staff_user):
    settings.BEARER_APPS_MAY_MOVE_MONEY = False
    application = make_application(allowed_scopes="accounts:read")

    with pytest.raises(PermissionDenied) as refused:
        application_review(
            application=application,
            staff=staff_user,
            verified=True,
            allowed_scopes=["accounts:read", "payments:internal"],
            reason="asked for it",
        )

    assert refused.value.code == ErrorCode.FAPI_REQUIRED
    assert application_review(
        application=make_fapi_application(Key(), allowed_scopes="accounts:read"),
        staff=staff_user,
        verified=True,
        allowed_scopes=["accounts:read", "payments:internal"],
        reason="FAPI app",
    ).scope_list == ["payments:internal"]  # proposed: a second member of staff approves it


def test_a_bearer_apps_money_scopes_stop_working_when_the_setting_is_off(settings, connect, alice, account_for):
    main = account_for(alice, balance="50.00")
    savings = account_for(alice, type="SAVINGS")
    connected = connect(alice, scopes=scopes.ALL, accounts=[main, savings])
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"
    body = transfer_body("1.00", savings)
    assert connected.post(path, body, **{"Idempotency-Key": "k1"}).status_code == 201
    settings.BEARER_APPS_MAY_MOVE_MONEY = False

    response = connected.post(path, body, **{"Idempotency-Key": "k2"})

    assert response.status_code == 403
    assert connected.get("/api/v1/monetary-accounts/").status_code == 200


def test_staff_set_the_metadata_on_the_review_page_with_a_reason(settings, staff, alice):
    settings.BEARER_APPS_MAY_MOVE_MONEY = False
    key = Key()
    application = make_fapi_application(key, allowed_scopes=" ".join(scopes.ALL))
    url = f"/admin/connections/awaitingreview/{application.pk}/change/"
    page = staff.get(url).content.decode()
    assert "held to FAPI 2.0" in page and 'name="require_pushed_authorization_requests"' in page

    no_reason = staff.post(url, {"form": "metadata", "token_endpoint_auth_method": "client_secret_basic"})
    assert no_reason.status_code == 200
    application.refresh_from_db()
    assert application.is_fapi

    staff.post(url, {"form": "metadata", "token_endpoint_auth_method": "client_secret_basic", "reason": "lost keys"})

    application.refresh_from_db()
    assert not application.is_fapi and application.token_endpoint_auth_method == "client_secret_basic"
    assert not set(application.allowed_scope_list()) & scopes.MONEY_MOVING  # it may not keep them
    event = AuditEvent.objects.get(action=AuditAction.APPLICATION_METADATA_CHANGED)
    assert (
        event.data["reason"] == "lost keys" and event.data["before"]["token_endpoint_auth_method"] == "private_key_jwt"
    )
    assert AuditEvent.objects.filter(action=AuditAction.APPLICATION_POLICY_CHANGED).exists()


def test_staff_pasting_a_private_key_see_it_refused_and_not_echoed(staff, alice):
    key = Key()
    application = make_fapi_application(key)
    private = json.dumps({"keys": [{**key.private.as_dict(private=True), "kid": "k"}]})
    url = f"/admin/connections/awaitingreview/{application.pk}/change/"

    response = staff.post(
        url,
        {"form": "metadata", "token_endpoint_auth_method": "private_key_jwt", "jwks": private, "reason": "rotate"},
    )

    page = response.content.decode()
    assert "This is a private key" in page and key.private.as_dict(private=True)["d"] not in page
    application.refresh_from_db()
    assert application.jwks == key.jwks


# --- the integrator's guide ---------------------------------------------------------------------


def test_the_fapi_guide_is_public_linked_and_its_python_is_valid(client, alice):
    page = client.get("/developers/guides/fapi/")

    html = page.content.decode()
    assert page.status_code == 200 and "<h1>Connecting a FAPI 2.0 app</h1>" in html
    blocks = re.findall(r'<pre tabindex="0"><code class="language-python">(.*?)</code></pre>', html, re.S)
    assert len(blocks) >= 6
    for block in blocks:
        ast.parse(unescape(block))  # every snippet can be copied as it is
    for name in ("token_endpoint_auth_method", "jwks", "dpop_bound_access_tokens", "/o/par/"):
        assert name in html
    assert "<script" not in html.split('<article class="guide">')[1].split("</article>")[0]
    assert client.get("/developers/guides/nope/").status_code == 404
    client.force_login(alice)
    assert 'href="/developers/guides/fapi/"' in client.get("/developers/").content.decode()


def test_the_versioning_guide_and_changelog_are_published_and_linked(client, alice):
    page = client.get("/developers/guides/versioning/").content.decode()

    assert "<h1>Versions, deprecations and what changed</h1>" in page
    assert "Changelog" in page and "Sunset" in page and "X-Request-ID" in page
    assert "/developers/guides/versioning/" in client.get("/api/schema/").content.decode()
    client.force_login(alice)
    assert 'href="/developers/guides/versioning/"' in client.get("/developers/").content.decode()
