"""What a customer does in the browser: connect an app, find and revoke it, choose its accounts,
approve and reject drafts, answer payment requests; and the accessibility of every page on the way."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from bank.models import DraftPayment, DraftStatus, Payment, RequestResponse, RequestStatus
from bank.services.drafts import draft_payment_create
from bench.receiver import Behaviour, receiving
from connections.models import Application, Connection
from connections.services.callbacks import notification_filter_create
from connections.services.connections import connection_grant
from connections.tasks import outbox_relay
from tests.connections.oauth_helpers import (
    REDIRECT_URI,
    api_get,
    authorize_url,
    make_application,
    pkce_pair,
    refresh,
    token_request,
)
from tests.factories import PASSWORD, make_account, pay, request_money

from .conftest import check_page, log_in

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def bank(alice, bob):
    main = make_account(alice, balance="500.00", description="Main")
    savings = make_account(alice, type="SAVINGS", description="Savings")
    bobs = make_account(bob, balance="50.00", description="Bob's main")
    make_application()
    return main, savings, bobs


def consent_in_browser(page: Page, scope: str, untick: tuple[str, ...] = ()) -> tuple[str, str]:
    """Open the consent screen as the app would send the customer, untick what is named, Allow.
    Returns (code, verifier); the app's callback is answered by the test, not the network."""
    verifier, challenge = pkce_pair()
    callback: list[str] = []

    def answer(route):  # type: ignore[no-untyped-def]
        callback.append(route.request.url)
        route.fulfill(status=200, body="Budget Buddy received the answer")

    page.route(f"{REDIRECT_URI}**", answer)
    page.goto(authorize_url(challenge=challenge, scope=scope))
    expect(page.get_by_role("heading", name="Connect Budget Buddy to your bank?")).to_be_visible()
    check_page(page, "consent")
    for label in untick:
        page.get_by_label(label).uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{REDIRECT_URI}?**")
    assert callback, "the bank did not send the customer back to the app"
    code = parse_qs(urlsplit(callback[0]).query)["code"][0]
    return code, verifier


def tokens_for(code: str, verifier: str) -> dict:
    """What the app's server does with the code: exchange it, with its secret and PKCE verifier."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    response = token_request(Client(), data)
    assert response.status_code == 200, response.content
    return response.json()


def test_find_the_connection_by_clicking_and_revoke_it(page, alice, bank):
    log_in(page, "alice")
    check_page(page, "home")
    tokens = tokens_for(*consent_in_browser(page, "accounts:read payments:read draft_payments:write"))
    assert api_get(Client(), "/api/v1/me/", tokens["access_token"]).status_code == 200

    page.goto("/")
    page.get_by_role("link", name="Profile").first.click()
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    check_page(page, "profile")
    page.get_by_role("link", name="Settings").first.click()
    check_page(page, "settings")
    page.get_by_role("link", name="Security").first.click()
    check_page(page, "security")
    page.get_by_role("link", name="My app connections").first.click()
    expect(page.get_by_role("heading", name="My app connections")).to_be_visible()
    expect(page.get_by_text("Prepare payments that you must approve before anything is paid")).to_be_visible()
    expect(page.get_by_text("Moves money")).to_be_visible()
    check_page(page, "app-connections")

    page.get_by_role("link", name="Details and accounts for Budget Buddy").click()
    expect(page.get_by_role("heading", name="Recent activity")).to_be_visible()
    check_page(page, "app-connection-detail")

    page.get_by_role("link", name="Revoke access for Budget Buddy").click()
    expect(page.get_by_text("loses access now")).to_be_visible()
    check_page(page, "revoke-confirmation")
    page.get_by_role("button", name="Revoke access for Budget Buddy").click()
    expect(page.get_by_role("heading", name="Budget Buddy no longer has access")).to_be_visible()
    check_page(page, "revoked")

    assert api_get(Client(), "/api/v1/me/", tokens["access_token"]).status_code == 401
    assert refresh(Client(), tokens["refresh_token"]).status_code == 400
    page.get_by_role("link", name="Ended connections").click()
    expect(page.get_by_role("cell", name="You", exact=True)).to_be_visible()
    check_page(page, "ended-connections")


def test_consent_with_less_and_change_the_accounts_later(page, alice, bank):
    main, savings, _ = bank
    log_in(page, "alice")
    tokens = tokens_for(
        *consent_in_browser(
            page, "accounts:read payments:read", untick=("See your payments", f"Savings {savings.iban}")
        )
    )
    connection = Connection.objects.get(user=alice)
    assert connection.scope_list == ["accounts:read"]
    assert list(connection.accounts.all()) == [main]

    page.goto("/profile/settings/security/app-connections/")
    card = page.locator(".connection")
    expect(card.get_by_text("See your monetary accounts and their balances")).to_be_visible()
    expect(card.get_by_text("See your payments")).to_have_count(0)
    expect(card.get_by_text(savings.iban)).to_have_count(0)

    page.get_by_role("link", name="Details and accounts for Budget Buddy").click()
    page.get_by_label(f"Savings ({savings.iban})").check()
    page.get_by_label(f"Main ({main.iban})").uncheck()
    page.get_by_role("button", name="Save accounts for Budget Buddy").click()
    expect(page.get_by_text("Budget Buddy now sees only the accounts you ticked.")).to_be_visible()

    listed = api_get(Client(), "/api/v1/monetary-accounts/", tokens["access_token"]).json()["results"]
    assert [account["id"] for account in listed] == [savings.pk]


def test_approve_with_the_password_and_reject_with_a_reason(page, alice, bank):
    main, _, _ = bank
    pointer = {"type": "IBAN", "value": "DE89370400440532013000", "name": "Landlord"}
    app = connection_grant(
        user=alice, application=Application.objects.get(), scopes=["draft_payments:write"], accounts=[main]
    )
    rent = draft_payment_create(
        customer=alice,
        source=main,
        entries=[{"amount": "450.00", "counterparty_alias": pointer, "description": "Rent"}],
        actor=alice,
        connection=app,
    )
    gym = draft_payment_create(
        customer=alice,
        source=main,
        entries=[{"amount": "30.00", "counterparty_alias": {**pointer, "name": "Gym"}, "description": "Gym"}],
        actor=alice,
        connection=app,
    )
    log_in(page, "alice")
    page.get_by_role("link", name="2 draft payments to approve").click()
    check_page(page, "draft-payments")

    rent_panel = page.locator(".draft", has_text="Rent")
    rent_panel.get_by_label("Your password, to approve").fill("wrong password")
    rent_panel.get_by_role("button", name="Approve and pay €450.00").click()
    expect(page.get_by_role("status")).to_contain_text("nothing was paid")
    assert DraftPayment.objects.get(pk=rent.pk).status == DraftStatus.PENDING

    rent_panel = page.locator(".draft", has_text="Rent")
    rent_panel.get_by_label("Your password, to approve").fill(PASSWORD)
    rent_panel.get_by_role("button", name="Approve and pay €450.00").click()
    expect(page.get_by_role("status")).to_contain_text("Approved and paid")

    gym_panel = page.locator(".draft", has_text="Gym")
    gym_panel.get_by_label("Reason (optional; Budget Buddy can read it)").fill("Cancelled my membership")
    gym_panel.get_by_role("button", name=f"Reject draft {gym.pk}").click()
    expect(page.get_by_role("status")).to_contain_text("Rejected")
    check_page(page, "draft-payments-answered")

    main.refresh_from_db()
    assert main.balance == Decimal("50.00")
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-450.00")).count() == 1
    gym.refresh_from_db()
    assert (gym.status, gym.reason) == (DraftStatus.REJECTED, "Cancelled my membership")


def test_pay_one_request_and_reject_another(page, alice, bob, bank):
    main, _, bobs = bank
    for amount, description in (("12.00", "Pizza"), ("99.00", "Not mine")):
        request_money(bob, bobs, amount, {"type": "EMAIL", "value": "alice@example.com"}, description=description)
    pizza, other = RequestResponse.objects.order_by("id")
    log_in(page, "alice")
    page.get_by_role("link", name="2 payment requests to answer").click()
    check_page(page, "payment-requests")

    pizza_panel = page.locator(".request", has_text="Pizza")
    pizza_panel.get_by_label("Pay from").select_option(str(main.pk))
    pizza_panel.get_by_label("Your password, to pay").fill(PASSWORD)
    pizza_panel.get_by_role("button", name="Pay €12.00 to Bob").click()
    expect(page.get_by_role("status")).to_contain_text("Paid €12.00 from Main")

    page.get_by_role("button", name=f"Reject request {other.pk}").click()
    expect(page.get_by_role("status")).to_contain_text("Rejected")

    assert RequestResponse.objects.get(pk=pizza.pk).status == RequestStatus.ACCEPTED
    assert RequestResponse.objects.get(pk=other.pk).status == RequestStatus.REJECTED
    bobs.refresh_from_db()
    assert bobs.balance == Decimal("62.00")


def test_another_customers_connection_draft_and_request_are_404(page, alice, bob, bank):
    main, _, bobs = bank
    log_in(page, "alice")
    consent_in_browser(page, "accounts:read")
    connection = Connection.objects.get(user=alice)
    draft = draft_payment_create(
        customer=alice,
        source=main,
        entries=[{"amount": "1.00", "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com"}}],
        actor=alice,
    )
    page.context.clear_cookies()
    log_in(page, "bob")

    for path in ("", "revoke/", "revoked/"):
        response = page.goto(f"/profile/settings/security/app-connections/{connection.pk}/{path}")
        assert response is not None and response.status == 404
    page.goto("/draft-payments/")
    expect(page.get_by_text("No draft payment waits for you.")).to_be_visible()
    # Acting on it with a valid session and CSRF token, as a crafted form would: still not found.
    csrf = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.post(
        f"/draft-payments/{draft.pk}/approve/",
        form={"password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": page.url, "Origin": page.url.split("/draft-payments/")[0]},
    )
    assert response.status == 404
    assert DraftPayment.objects.get(pk=draft.pk).status == DraftStatus.PENDING
    # Nor a payment request asked of Alice.
    request_money(bob, bobs, "3.00", {"type": "EMAIL", "value": "alice@example.com"})
    asked_of_alice = RequestResponse.objects.get()
    for action in ("pay", "reject"):
        response = page.request.post(
            f"/payment-requests/{asked_of_alice.pk}/{action}/",
            form={"account": str(bobs.pk), "password": PASSWORD, "csrfmiddlewaretoken": csrf},
            headers={"Referer": page.url, "Origin": page.url.split("/draft-payments/")[0]},
        )
        assert response.status == 404, action
    assert RequestResponse.objects.get().status == RequestStatus.PENDING


def test_public_and_developer_pages_are_accessible(page, alice):
    page.goto("/help/oauth/")
    expect(page.get_by_role("heading", name="What's OAuth and how does it work?")).to_be_visible()
    check_page(page, "help-oauth")
    page.goto("/accounts/login/")
    check_page(page, "login")
    log_in(page, "alice")
    page.goto("/developers/")
    check_page(page, "developers")
    page.get_by_role("link", name="Register a new application").click()
    page.get_by_label("Name").fill("Piggy Bank")
    page.get_by_label("Website").fill("https://piggy.example")
    page.get_by_label("Redirect URIs").fill("https://piggy.example/callback")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Piggy Bank is registered")).to_be_visible()
    check_page(page, "developer-secret")
    page.get_by_role("link", name="I have stored it: continue").click()
    check_page(page, "developer-application")
    page.get_by_role("link", name="Recent API calls, by request id").click()
    expect(page.get_by_role("heading", name="API calls of Piggy Bank")).to_be_visible()
    check_page(page, "developer-calls")


def test_the_pages_fit_a_phone_screen(page, alice, bank):
    main, _, _ = bank
    connection_grant(user=alice, application=Application.objects.get(), scopes=["accounts:read"], accounts=[main])
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, "alice")
    for path in (
        "/",
        "/profile/settings/security/app-connections/",
        f"/profile/settings/security/app-connections/{Connection.objects.get().pk}/",
        "/draft-payments/",
        "/payment-requests/",
        "/help/oauth/",
    ):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone screen"
    check_page(page, "help-oauth-phone")


def test_the_api_docs_render_under_the_content_security_policy(page):
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto("/api/docs/")

    expect(page.get_by_text("/api/v1/monetary-accounts/{account_pk}/payments/").first).to_be_visible()
    assert problems == []
    # For reading: no Authorize button and no "Try it out"; the guides are linked from the top.
    expect(page.get_by_role("button", name="Authorize")).to_be_hidden()
    page.get_by_text("/api/v1/monetary-accounts/{account_pk}/payments/").first.click()
    expect(page.get_by_role("button", name="Try it out")).to_have_count(0)
    page.goto(page.get_by_role("link", name="first-token guide").get_attribute("href") or "")
    expect(page.get_by_role("heading", name="From registration to a first API call")).to_be_visible()
    check_page(page, "guide-first-token")


def test_a_developer_makes_a_test_customer_and_deletes_an_app(page, alice, settings):
    settings.BANK_SANDBOX = True
    log_in(page, "alice")
    page.goto("/developers/")
    page.get_by_role("button", name="Make a test customer").click()
    expect(page.get_by_role("heading", name="Test customer Test Customer 1")).to_be_visible()
    expect(page.get_by_text("Main account")).to_be_visible()
    check_page(page, "developer-test-customer")
    page.get_by_role("link", name="I have stored it: continue").click()
    expect(page.get_by_role("cell", name="Test Customer 1")).to_be_visible()
    check_page(page, "developers-sandbox")

    page.get_by_role("link", name="Register a new application").click()
    page.get_by_label("Name").fill("Piggy Bank")
    page.get_by_label("Website").fill("https://piggy.example")
    page.get_by_label("Redirect URIs").fill("https://piggy.example/callback")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("link", name="I have stored it: continue").click()
    page.get_by_role("link", name="Delete Piggy Bank…").click()
    expect(page.get_by_text("No customer is connected to it now.")).to_be_visible()
    page.get_by_role("button", name="Delete Piggy Bank").click()  # without typing the name
    expect(page.get_by_label("Type the app's name, Piggy Bank, to confirm")).to_be_visible()
    page.get_by_label("Type the app's name, Piggy Bank, to confirm").fill("Piggy Bank")
    check_page(page, "developer-delete")
    page.get_by_role("button", name="Delete Piggy Bank").click()
    expect(page.get_by_text("Piggy Bank is deleted; 0 connection(s) ended.")).to_be_visible()
    expect(page.get_by_role("link", name="Piggy Bank")).to_have_count(0)


def test_every_problem_code_has_a_page(page):
    page.goto("/developers/problems/")
    check_page(page, "problems")
    page.get_by_role("link", name="use_draft_payment").click()
    expect(page.get_by_role("heading", name="Problem use_draft_payment")).to_be_visible()
    check_page(page, "problem")


def test_a_developer_follows_a_failing_callback_and_sends_it_again(page, alice, bank):
    """The developer's side of callbacks: the signing secret, a callback their server refused, and
    sending it again once the server is fixed."""
    main, savings, _ = bank
    application = Application.objects.get()
    Application.objects.filter(pk=application.pk).update(user=alice)
    connection = connection_grant(user=alice, application=application, scopes=["payments:read"], accounts=[main])
    outbox_relay()  # the opening deposits' events, before the app listens
    log_in(page, "alice")
    page.goto(f"/developers/{application.pk}/")
    page.get_by_role("button", name="Create a signing secret").click()
    expect(page.locator("code.secret")).to_contain_text("whsec_")
    with receiving(behaviour=Behaviour(status=503)) as receiver:
        notification_filter_create(connection=connection, category="PAYMENT", target=receiver.url + "/hook")
        pay(alice, main, "5.00", savings.iban)
        outbox_relay()  # the scheduler's work; the test's task backend runs the delivery at once
        receiver.wait_for(1)

        page.goto(f"/developers/{application.pk}/")
        page.get_by_role("link", name="Recent callbacks and their answers").click()
        row = page.get_by_role("row").filter(has_text="payment.created")
        expect(row).to_contain_text("HTTP 503")
        expect(row).to_contain_text("Pending")
        check_page(page, "developer-deliveries")

        receiver.behaviour = Behaviour(status=204)
        row.get_by_role("button", name="Send again").click()
        arrived = receiver.wait_for(2)
    expect(page.get_by_role("row").filter(has_text="payment.created")).to_contain_text("Delivered")
    assert arrived[0].headers["webhook-id"] == arrived[1].headers["webhook-id"]
    page.goto("/")
    expect(page.get_by_role("region", name="Recent security events")).to_contain_text("Budget Buddy")
    check_page(page, "home-security-events")
