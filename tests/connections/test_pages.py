"""My app connections (SPEC §4): one row per app, details, account choice, revoke, history, developers."""

import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from bank.models import AuditEvent, DraftPayment, DraftStatus
from bank.services.drafts import draft_payment_create
from connections.models import Application, Connection
from connections.urls import own_app_urlpatterns
from tests.connections.oauth_helpers import (
    api_get,
    consent,
    exchange,
    make_application,
    refresh,
    register_by_form,
    token_request,
)
from tests.factories import make_account

pytestmark = pytest.mark.django_db

LIST = "/profile/settings/security/app-connections/"


@pytest.fixture
def connected(client, alice):
    """Alice connected Budget Buddy through the real consent screen and holds its tokens."""
    main = make_account(alice, balance="100.00", description="Main")
    make_account(alice, type="SAVINGS", description="Savings")
    make_application()
    tokens = exchange(client, consent(client, alice, scope="accounts:read payments:read draft_payments:write")).json()
    client.force_login(alice)
    return Connection.objects.get(user=alice), tokens, main


def test_the_path_from_home_is_linked_page_by_page_with_breadcrumbs(client, alice):
    client.force_login(alice)
    home = client.get("/").content.decode()
    assert 'href="/profile/"' in home and f'href="{LIST}"' in home  # two clicks: home → connections
    for page, next_link in (
        ("/profile/", "/profile/settings/"),
        ("/profile/settings/", "/profile/settings/security/"),
        ("/profile/settings/security/", LIST),
    ):
        html = client.get(page).content.decode()
        assert f'href="{next_link}"' in html, page
        assert 'aria-label="Breadcrumb"' in html
    assert 'aria-current="page">My app connections' in client.get(LIST).content.decode()


def test_pages_need_a_login(client):
    for path in ("/profile/", LIST, f"{LIST}1/", "/draft-payments/", "/payment-requests/", "/developers/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path


def test_one_row_per_app_with_what_it_may_do_and_see(client, connected):
    connection, tokens, main = connected
    refresh(client, tokens["refresh_token"])  # a second token must not make a second row
    client.force_login(connection.user)

    response = client.get(LIST)
    html = response.content.decode()

    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    assert html.count('class="panel connection"') == 1
    assert "Budget Buddy" in html and "Budget Buddy Ltd" in html and "Verified by the bank" in html
    assert "See your monetary accounts and their balances" in html
    assert "Prepare payments that you must approve before anything is paid" in html
    assert "Moves money" in html  # draft_payments:write is marked
    assert "See the payment requests you received" not in html
    assert main.iban in html and "Savings" in html
    assert "Revoke access for Budget Buddy" in html
    assert re.search(r'<time datetime="[^"]+">', html)


def test_detail_shows_the_apps_activity(client, connected):
    connection, tokens, _ = connected
    api_get(client, "/api/v1/monetary-accounts/", tokens["access_token"])
    api_get(client, "/api/v1/monetary-accounts/", tokens["access_token"])  # recorded once a minute
    client.force_login(connection.user)

    html = client.get(f"{LIST}{connection.pk}/").content.decode()

    assert html.count("Read your accounts") == 1
    assert "Was given access" in html and "You connected it" in html
    assert AuditEvent.objects.filter(action="api.read", connection=connection).count() == 1


def test_changing_the_shared_accounts_takes_effect_on_the_next_api_call(client, connected):
    connection, tokens, main = connected
    savings = connection.accounts.exclude(pk=main.pk).get()

    response = client.post(f"{LIST}{connection.pk}/", {"accounts": [savings.pk]})

    assert response.status_code == 303
    assert "now sees only the accounts you ticked" in client.get(response["Location"]).content.decode()
    ids = [a["id"] for a in api_get(client, "/api/v1/monetary-accounts/", tokens["access_token"]).json()["results"]]
    assert ids == [savings.pk]


def test_unticking_every_account_is_refused_with_a_clear_message(client, connected):
    connection, _, _ = connected

    response = client.post(f"{LIST}{connection.pk}/", {})

    assert response.status_code == 200
    assert "Choose at least one account, or revoke the connection instead." in response.content.decode()
    assert connection.accounts.count() == 2


def test_another_customers_account_cannot_be_shared(client, bob, connected):
    connection, _, _ = connected
    bobs = make_account(bob)

    response = client.post(f"{LIST}{connection.pk}/", {"accounts": [bobs.pk]})

    assert response.status_code == 200
    assert not connection.accounts.filter(pk=bobs.pk).exists()


def test_revoke_explains_then_ends_everything_and_says_what_was_done(client, connected):
    connection, tokens, main = connected
    draft_payment_create(
        customer=connection.user,
        source=main,
        entries=[
            {
                "amount": "5.00",
                "counterparty_alias": {"type": "IBAN", "value": "DE89370400440532013000", "name": "Shop"},
            }
        ],
        actor=connection.user,
        connection=connection,
    )

    confirm = client.get(f"{LIST}{connection.pk}/revoke/").content.decode()
    assert "loses access now" in confirm and "stays with Budget Buddy" in confirm
    assert "The 1 draft payment it prepared and you have not approved is cancelled." in confirm
    assert Connection.objects.get().is_active  # a GET changes nothing

    response = client.post(f"{LIST}{connection.pk}/revoke/")
    assert response.status_code == 303 and response["Location"] == f"{LIST}{connection.pk}/revoked/"
    result = client.get(response["Location"]).content.decode()

    assert "Budget Buddy no longer has access" in result
    assert "1 pending draft payment cancelled" in result
    connection.refresh_from_db()
    assert (connection.revoked_by, connection.revoked_by_user) == ("customer", connection.user)
    assert DraftPayment.objects.get().status == DraftStatus.CANCELLED
    assert api_get(client, "/api/v1/me/", tokens["access_token"]).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 400
    client.force_login(connection.user)
    assert "No app is connected" in client.get(LIST).content.decode()
    history = client.get(f"{LIST}history/").content.decode()
    assert "Budget Buddy" in history and "You" in history


def test_revoke_needs_csrf(alice, connected):
    connection, _, _ = connected
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)

    assert strict.post(f"{LIST}{connection.pk}/revoke/").status_code == 403
    assert Connection.objects.get().is_active


def test_another_customers_connection_is_404_on_every_page(client, bob, connected):
    connection, _, _ = connected
    client.force_login(bob)

    for path in ("", "revoke/", "revoked/"):
        assert client.get(f"{LIST}{connection.pk}/{path}").status_code == 404
    assert client.post(f"{LIST}{connection.pk}/revoke/").status_code == 404
    assert client.post(f"{LIST}{connection.pk}/", {"accounts": []}).status_code == 404
    assert Connection.objects.get().is_active


def test_staff_revocation_shows_in_the_history_as_staff(client, connected, admin_user):
    from connections.services.connections import connection_revoke

    connection, _, _ = connected
    connection_revoke(connection=connection, by="staff", actor=admin_user)

    assert "The bank&#x27;s staff" in client.get(f"{LIST}history/").content.decode()


# --- Developers ---------------------------------------------------------------------------------


def png_bytes(size: tuple[int, int] = (64, 64)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 90, 170)).save(buffer, format="PNG")
    return buffer.getvalue()


def shown_secret(response) -> str:
    match = re.search(r'<code class="secret">([^<]+)</code>', response.content.decode())
    assert match, "no secret on the page"
    return match.group(1)


def register(client, **overrides):
    """With a loopback redirect URI for a native app too."""
    return register_by_form(
        client, **{"redirect_uris": "https://piggy.example/callback\nhttp://127.0.0.1:9000/cb", **overrides}
    )


def test_a_customer_registers_an_app_and_sees_its_secret_once(client, alice):
    client.force_login(alice)

    response = register(client)

    assert response.status_code == 200
    secret = shown_secret(response)
    application = Application.objects.get(name="Piggy Bank")
    assert application.user == alice and application.verified is False
    assert application.allowed_scope_list() == [
        "accounts:read",
        "payments:read",
        "draft_payments:read",
        "request_inquiries:read",
        "request_responses:read",
    ]
    assert application.client_secret != secret and secret not in application.client_secret
    assert application.redirect_uris == "https://piggy.example/callback http://127.0.0.1:9000/cb"
    assert secret not in client.get(f"/developers/{application.pk}/").content.decode()
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="application.registered", application=application).exists()


def test_rotating_the_secret_stops_the_old_one(client, alice, account_for):
    client.force_login(alice)
    old = shown_secret(register(client))
    application = Application.objects.get()

    new = shown_secret(client.post(f"/developers/{application.pk}/rotate-secret/"))

    assert new != old
    assert AuditEvent.objects.filter(action="application.secret_rotated", application=application).exists()
    refresh_attempt = {"grant_type": "refresh_token", "refresh_token": "x"}
    assert token_request(client, refresh_attempt, client_id=application.client_id, secret=old).status_code == 401
    assert token_request(client, refresh_attempt, client_id=application.client_id, secret=new).status_code == 400


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("redirect_uris", "http://piggy.example/cb", "must use https"),
        ("redirect_uris", "https://piggy.example/cb#frag", "redirect_uris"),
        ("logo", SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>"), "must be a PNG, JPEG or WebP"),
        ("website", "not a url", "Enter a valid URL"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_application_details_are_refused_and_nothing_is_saved(client, alice, field, value, message):
    client.force_login(alice)

    response = register(client, **{field: value})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Application.objects.exists()


def test_every_mistake_in_the_registration_form_is_shown_at_once(client, alice):
    client.force_login(alice)

    response = register(client, name="", website="not a url", redirect_uris="http://piggy.example/cb")

    page = response.content.decode()
    assert "This field is required" in page and "Enter a valid URL" in page and "must use https" in page
    assert not Application.objects.exists()


def test_single_page_apps_are_sent_to_their_own_server_and_nobody_gets_cors(client, alice):
    client.force_login(alice)
    form = client.get("/developers/new/").content.decode()
    assert "single-page app" not in form.split("Public:")[1].split("</label>")[0]
    assert "connects through its own server" in form

    for path in ("/o/token/", "/api/v1/me/"):
        answer = client.options(path, HTTP_ORIGIN="https://spa.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
        assert "Access-Control-Allow-Origin" not in answer


def test_a_public_client_gets_no_secret(client, alice):
    client.force_login(alice)

    response = register(client, client_type="public")

    assert response.status_code == 303
    page = client.get(response["Location"]).content.decode()
    assert "Public clients use PKCE without a secret" in page
    assert 'class="secret"' not in page and "Replace the client secret" not in page


def test_developers_see_and_edit_only_their_own_apps(client, alice, bob):
    client.force_login(alice)
    register(client)
    application = Application.objects.get()
    client.force_login(bob)

    assert client.get(f"/developers/{application.pk}/").status_code == 404
    assert client.post(f"/developers/{application.pk}/rotate-secret/").status_code == 404
    assert "Piggy Bank" not in client.get("/developers/").content.decode()


@pytest.mark.parametrize("pattern", own_app_urlpatterns, ids=lambda pattern: pattern.name)
def test_every_page_about_an_app_is_a_404_for_another_developer(client, alice, bob, pattern):
    """Each of the pages under developers/<pk>/, present and future, answers another developer as if
    the app did not exist, and changes nothing."""
    client.force_login(alice)
    register(client)
    application = Application.objects.get()
    client.force_login(bob)
    before = (application.client_secret, application.name, AuditEvent.objects.count())
    kwargs = {"pk": application.pk}
    if "delivery_id" in pattern.pattern.converters:
        kwargs["delivery_id"] = uuid.uuid4()
    url = reverse(pattern.name, kwargs=kwargs)

    answers = {client.get(url).status_code, client.post(url, {"name": "Stolen", "overlap_days": "0"}).status_code}

    assert 404 in answers and answers <= {404, 405}
    application.refresh_from_db()
    assert (application.client_secret, application.name, AuditEvent.objects.count()) == before


def test_a_developer_cannot_widen_the_scopes_or_verify_their_app(client, alice):
    client.force_login(alice)
    register(client)
    application = Application.objects.get()

    client.post(
        f"/developers/{application.pk}/",
        {
            "name": "Piggy Bank 2",
            "website": "https://piggy.example",
            "redirect_uris": "https://piggy.example/callback",
            "client_type": "confidential",
            "logo": SimpleUploadedFile("logo.png", png_bytes()),
            "allowed_scopes": "payments:internal",
            "verified": "on",
        },
    )

    application.refresh_from_db()
    assert application.name == "Piggy Bank 2" and application.logo is not None
    updated = AuditEvent.objects.get(action="application.updated", application=application)
    assert updated.data == {"changed": ["logo", "name", "redirect_uris"]}
    assert "payments:internal" not in application.allowed_scopes and application.verified is False
