"""Passkeys in Chromium, with the DevTools protocol's virtual authenticator standing in for a phone:
add one, approve a draft with it (paid exactly once, the approval not reusable), pay a payment
request, allow an app a money-moving scope, and log in with the passkey alone. The bank answers on
localhost here: a WebAuthn relying-party id cannot be an IP address."""

from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from playwright.sync_api import Page, expect

from bank.models import AuditEvent, DraftPayment, DraftStatus, Passkey, Payment, RequestResponse, RequestStatus
from bank.vocabulary import AuditAction
from connections.models import Connection
from connections.services.connections import connection_grant
from tests.connections.oauth_helpers import REDIRECT_URI, authorize_url, make_application, pkce_pair
from tests.factories import make_account, prepare_draft, request_money

from .conftest import check_page, log_in

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LANDLORD = {"type": "IBAN", "value": "DE89370400440532013000", "name": "Landlord"}


@pytest.fixture
def authenticator(page: Page, live_server, settings):
    """A platform authenticator with user verification, as a phone's or a laptop's would be."""
    assert live_server.url.startswith("http://localhost:"), live_server.url
    settings.PASSKEY_ORIGINS = [live_server.url]
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_a_customer_adds_a_passkey_and_approves_pays_and_connects_with_it(page, authenticator, alice, bob):
    main = make_account(alice, balance="1000.00", description="Main")
    bobs = make_account(bob, description="Bob's main")
    application = make_application()
    app = connection_grant(user=alice, application=application, scopes=["draft_payments:write"], accounts=[main])
    rent = prepare_draft(alice, main, "450.00", LANDLORD, description="Rent", connection=app)
    gym = prepare_draft(alice, main, "30.00", LANDLORD, description="Gym", connection=app)

    # Add a passkey under Profile → Settings → Security → Passkeys.
    log_in(page, "alice")
    page.goto("/profile/settings/security/")
    page.get_by_role("link", name="Passkeys").click()
    check_page(page, "passkeys-none")
    page.get_by_label("Name it, so you can tell it apart later").fill("This laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").first).to_contain_text("Passkey “This laptop” added")
    expect(page.get_by_role("heading", name="This laptop")).to_be_visible()
    check_page(page, "passkeys")
    assert Passkey.objects.get().customer == alice

    # Approve the rent with it; keep what the browser posted, to try it again below.
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.url.endswith(f"/{rent.pk}/approve/") else None)
    page.goto("/draft-payments/")
    rent_panel = page.locator(".draft", has_text="Rent")
    expect(rent_panel).to_contain_text("Your passkey confirms exactly this payment")
    check_page(page, "draft-payments-passkey")
    rent_panel.get_by_role("button", name="Approve with your passkey and pay €450.00").click()
    expect(page.get_by_role("status").first).to_contain_text("Approved and paid")
    assert DraftPayment.objects.get(pk=rent.pk).status == DraftStatus.ACCEPTED
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-450.00")).count() == 1

    # The same approval, sent again for the gym draft: refused, nothing paid.
    assertion = dict(parse_qsl([body for body in posted if "passkey_credential=%7B" in body][-1]))
    replay = page.request.post(f"/draft-payments/{gym.pk}/approve/", form=assertion)
    assert replay.ok  # the page, with its message
    assert DraftPayment.objects.get(pk=gym.pk).status == DraftStatus.PENDING
    assert AuditEvent.objects.filter(action=AuditAction.PASSKEY_REFUSED).count() == 1
    assert Payment.objects.filter(monetary_account=main, amount__lt=0).count() == 1

    # Pay bob's payment request with it.
    request_money(bob, bobs, "12.50", {"type": "EMAIL", "value": alice.email}, description="Pizza")
    page.goto("/payment-requests/")
    page.get_by_role("button", name="Pay with your passkey: €12.50 to Bob").click()
    expect(page.get_by_role("status").first).to_contain_text("Paid €12.50")
    assert RequestResponse.objects.get().status == RequestStatus.ACCEPTED

    # Allow an app to move money between alice's accounts: the passkey again.
    page.route("https://app.example/**", lambda route: route.fulfill(status=200, body="the app"))
    _, challenge = pkce_pair()
    page.goto(authorize_url(challenge=challenge, scope="accounts:read payments:internal"))
    expect(page.get_by_role("status").first).to_contain_text("needs your passkey")
    check_page(page, "consent-passkey")
    with page.expect_request(lambda r: r.url.startswith(REDIRECT_URI)) as redirected:
        page.get_by_role("button", name="Allow").click()
    assert "code=" in redirected.value.url
    assert Connection.objects.filter(user=alice, scope="accounts:read payments:internal").exists()
    used = AuditEvent.objects.filter(action=AuditAction.PASSKEY_USED).values_list("data__operation", flat=True)
    assert sorted(used) == sorted(
        [f"draft_payment:{rent.pk}", f"payment_request:{RequestResponse.objects.get().pk}", "consent:test-client"]
    )

    # Log out, and in again with the passkey alone.
    page.unroute("https://app.example/**")
    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Log in with a passkey").click()
    expect(page.get_by_role("heading", name="Hello, Alice")).to_be_visible()
    assert Passkey.objects.get().last_used_at is not None
