"""Passkeys (SPEC §10): adding, renaming and removing them, logging in with one, and two factors for
money bound to exactly what is approved. Every attack of the issue is here, each refused, nothing
paid, an audit event written. A software authenticator (tests/passkey_helpers.py) answers as a
browser's passkey would; the browser tests use Chromium's virtual authenticator."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from bank.models import (
    AuditEvent,
    DraftPayment,
    DraftPaymentEntry,
    DraftStatus,
    Passkey,
    PasskeyChallenge,
    Payment,
    RequestResponse,
    RequestStatus,
)
from bank.tasks import passkey_challenges_prune
from bank.vocabulary import AuditAction
from connections.models import Application, Connection
from connections.services.connections import connection_grant
from tests.concurrency import at_once
from tests.connections.oauth_helpers import authorize_url, make_application, pkce_pair
from tests.factories import PASSWORD, StaffFactory, UserFactory, make_account, prepare_draft, request_money
from tests.passkey_helpers import SoftAuthenticator

pytestmark = pytest.mark.django_db

LANDLORD = {"type": "IBAN", "value": "DE89370400440532013000", "name": "Landlord"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def options(client: Client, url: str, data: dict | None = None) -> dict:
    response = client.post(url, {**(data or {}), "passkey_step": "options"})
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def register(client: Client, authenticator: SoftAuthenticator, name: str = "My phone"):
    answer = options(client, "/profile/settings/security/passkeys/add/")
    credential = authenticator.create(answer["publicKey"])
    return client.post("/profile/settings/security/passkeys/add/", {"name": name, "passkey_credential": credential})


def refusals(reason: str | None = None) -> list[dict]:
    found = [e.data for e in AuditEvent.objects.filter(action=AuditAction.PASSKEY_REFUSED)]
    return [d for d in found if reason is None or d["reason"] == reason]


@pytest.fixture
def alice_with_passkey(alice):
    client = logged_in(alice)
    authenticator = SoftAuthenticator()
    assert register(client, authenticator).status_code == 303
    return client, authenticator


@pytest.fixture
def drafts(alice):
    main = make_account(alice, balance="1000.00", description="Main")
    app = connection_grant(user=alice, application=make_application(), scopes=["draft_payments:write"], accounts=[main])
    rent = prepare_draft(alice, main, "450.00", LANDLORD, description="Rent", connection=app)
    return main, rent, prepare_draft(alice, main, "30.00", LANDLORD, description="Gym", connection=app)


def approve(client: Client, draft: DraftPayment, credential: str = "", **extra: str):
    return client.post(f"/draft-payments/{draft.pk}/approve/", {"passkey_credential": credential, **extra})


def signed(client: Client, authenticator: SoftAuthenticator, draft: DraftPayment) -> str:
    """The authenticator's answer to the challenge the draft's approval page gave `client`."""
    return authenticator.get(options(client, f"/draft-payments/{draft.pk}/approve/")["publicKey"])


def paid(draft: DraftPayment) -> bool:
    draft.refresh_from_db()
    return draft.status == DraftStatus.ACCEPTED


# --- the passkeys page -----------------------------------------------------------------------------


def test_a_customer_adds_renames_and_removes_passkeys(alice):
    client = logged_in(alice)
    assert "You have no passkey yet" in client.get("/profile/settings/security/passkeys/").content.decode()

    assert register(client, SoftAuthenticator(), "  My   phone ").status_code == 303
    register(client, SoftAuthenticator(), "Laptop")

    phone, laptop = Passkey.objects.order_by("pk")
    assert (phone.name, phone.customer, phone.sign_count) == ("My phone", alice, 0)
    page = client.get("/profile/settings/security/passkeys/").content.decode()
    assert "My phone" in page and "Laptop" in page and "Never" in page
    client.post(f"/profile/settings/security/passkeys/{phone.pk}/rename/", {"name": "Old phone"})
    assert Passkey.objects.get(pk=phone.pk).name == "Old phone"

    wrong = client.post(f"/profile/settings/security/passkeys/{laptop.pk}/remove/", {"password": "nope"}, follow=True)
    assert "the passkey was kept" in wrong.content.decode() and Passkey.objects.filter(pk=laptop.pk).exists()
    client.post(f"/profile/settings/security/passkeys/{laptop.pk}/remove/", {"password": PASSWORD})
    last = client.post(f"/profile/settings/security/passkeys/{phone.pk}/remove/", {"password": PASSWORD}, follow=True)
    assert "payments ask for your password again" in last.content.decode()
    assert not Passkey.objects.exists()
    home = client.get("/").content.decode()
    assert "Added a passkey" in home and "Removed a passkey" in home  # under recent security events
    actions = list(AuditEvent.objects.filter(action__startswith="auth.passkey").values_list("action", flat=True))
    assert actions.count(AuditAction.PASSKEY_ADDED) == 2
    assert AuditAction.PASSKEY_RENAMED in actions and actions.count(AuditAction.PASSKEY_REMOVED) == 2
    assert AuditAction.STEP_UP_FAILED in AuditEvent.objects.values_list("action", flat=True)


def test_staff_see_a_customers_passkeys_in_their_one_view_and_cannot_change_them(alice_with_passkey, alice):
    staff = Client()
    staff.force_login(StaffFactory())

    page = staff.get(f"/admin/bank/customer/{alice.pk}/change/").content.decode()

    assert "Passkeys" in page and "My phone" in page
    assert staff.get("/admin/bank/passkey/").status_code == 404  # no admin of their own: nothing to edit


def test_another_customers_passkey_cannot_be_renamed_or_removed(alice_with_passkey, bob):
    passkey = Passkey.objects.get()
    intruder = logged_in(bob)
    assert intruder.post(f"/profile/settings/security/passkeys/{passkey.pk}/rename/", {"name": "x"}).status_code == 404
    remove = intruder.post(f"/profile/settings/security/passkeys/{passkey.pk}/remove/", {"password": PASSWORD})
    assert remove.status_code == 404 and Passkey.objects.get().name == "My phone"


@pytest.mark.parametrize(
    ("authenticator", "origin"),
    [
        (SoftAuthenticator(user_verified=False), None),  # user verification not performed
        (SoftAuthenticator(), "https://evil.example"),  # a wrong origin
    ],
)
def test_a_registration_without_user_verification_or_from_elsewhere_is_refused(alice, authenticator, origin):
    client = logged_in(alice)
    answer = options(client, "/profile/settings/security/passkeys/add/")
    credential = authenticator.create(answer["publicKey"], origin=origin)

    page = client.post(
        "/profile/settings/security/passkeys/add/", {"name": "Phone", "passkey_credential": credential}, follow=True
    )

    assert "could not confirm" in page.content.decode()
    assert not Passkey.objects.exists() and len(refusals()) == 1


def test_registration_options_ask_for_user_verification_and_exclude_known_passkeys(alice_with_passkey):
    client, authenticator = alice_with_passkey
    public_key = options(client, "/profile/settings/security/passkeys/add/")["publicKey"]
    assert public_key["rp"]["id"] == "localhost"
    assert public_key["authenticatorSelection"]["userVerification"] == "required"
    assert public_key["authenticatorSelection"]["residentKey"] == "preferred"
    assert [c["id"] for c in public_key["excludeCredentials"]] == [
        json.loads(authenticator.get({"challenge": ""}))["id"]
    ]


# --- two factors for money ------------------------------------------------------------------------


def test_a_draft_is_approved_with_the_passkey_bound_to_it_and_paid_once(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    main, rent, _ = drafts

    answer = options(client, f"/draft-payments/{rent.pk}/approve/")
    assert "pay €450.00 from Main" in answer["summary"]
    assert answer["publicKey"]["userVerification"] == "required"
    credential = authenticator.get(answer["publicKey"])
    assert approve(client, rent, credential).status_code == 303

    assert paid(rent)
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-450.00")).count() == 1
    passkey = Passkey.objects.get()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    used = AuditEvent.objects.get(action=AuditAction.PASSKEY_USED)
    assert used.data == {"operation": f"draft_payment:{rent.pk}"}
    # The same approval again: refused (the challenge is spent), and nothing more is paid.
    again = client.post(f"/draft-payments/{rent.pk}/approve/", {"passkey_credential": credential}, follow=True)
    assert "could not confirm this" in again.content.decode() and refusals("challenge_reused")
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-450.00")).count() == 1


def test_a_customer_with_a_passkey_cannot_pay_with_the_password_alone(alice_with_passkey, drafts):
    client, _ = alice_with_passkey
    _, rent, _ = drafts

    page = client.post(f"/draft-payments/{rent.pk}/approve/", {"password": PASSWORD}, follow=True)

    assert "Confirm with your passkey" in page.content.decode() and not paid(rent)


def test_an_approval_for_draft_a_does_not_pay_draft_b(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    _, rent, gym = drafts
    credential = signed(client, authenticator, gym)

    page = approve(client, rent, credential)

    assert page.status_code == 303 and not paid(rent) and not paid(gym)
    assert refusals("other_operation") == [{"operation": f"draft_payment:{rent.pk}", "reason": "other_operation"}]
    # And the challenge is spent: it cannot now be used for the draft it was made for.
    approve(client, gym, credential)
    assert not paid(gym) and refusals("challenge_reused")


def test_a_draft_that_changed_after_the_challenge_is_not_paid(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    _, rent, _ = drafts
    credential = signed(client, authenticator, rent)
    DraftPaymentEntry.objects.filter(draft=rent).update(amount=Decimal("950.00"))

    approve(client, rent, credential)

    assert not paid(rent) and refusals("approval_changed")


def test_a_payee_that_changed_after_the_challenge_is_not_paid(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    _, rent, _ = drafts
    credential = signed(client, authenticator, rent)
    DraftPaymentEntry.objects.filter(draft=rent).update(counterparty_value="NL91ABNA0417164300")

    approve(client, rent, credential)

    assert not paid(rent) and refusals("approval_changed")


def test_a_challenge_from_another_session_is_refused(alice, alice_with_passkey, drafts):
    first, authenticator = alice_with_passkey
    _, rent, _ = drafts
    credential = signed(first, authenticator, rent)

    approve(logged_in(alice), rent, credential)

    assert not paid(rent) and refusals("other_session_or_customer")


def test_a_challenge_issued_to_another_customer_is_refused(alice_with_passkey, drafts, bob):
    client, authenticator = alice_with_passkey
    _, rent, _ = drafts
    bobs_client = logged_in(bob)
    bobs_authenticator = SoftAuthenticator()
    register(bobs_client, bobs_authenticator)
    # bob asks for a challenge on his own page (he has nothing to approve, so the login's will do).
    login_options = options(Client(), "/accounts/passkey/")
    credential = authenticator.get(login_options["publicKey"])

    approve(client, rent, credential)

    assert not paid(rent) and refusals("other_session_or_customer")


def test_another_customers_credential_is_refused(alice_with_passkey, drafts, bob):
    client, _ = alice_with_passkey
    _, rent, _ = drafts
    bobs_authenticator = SoftAuthenticator()
    register(logged_in(bob), bobs_authenticator)
    credential = signed(client, bobs_authenticator, rent)

    approve(client, rent, credential)

    assert not paid(rent) and refusals("other_customers_credential")


def test_a_replayed_assertion_is_refused(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    _, rent, gym = drafts
    credential = signed(client, authenticator, rent)
    approve(client, rent, credential)
    options(client, f"/draft-payments/{gym.pk}/approve/")  # a fresh challenge exists, but not this one

    approve(client, gym, credential)

    assert not paid(gym) and refusals("challenge_reused")


def test_a_signature_counter_that_goes_back_is_a_cloned_authenticator(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    _, rent, gym = drafts
    approve(client, rent, signed(client, authenticator, rent))
    authenticator.sign_count = 0  # a copy of the key that has not counted the first use

    approve(client, gym, signed(client, authenticator, gym))

    assert not paid(gym) and refusals("sign_count_went_back")


def test_an_assertion_without_user_verification_is_refused(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    _, rent, _ = drafts
    authenticator.user_verified = False

    approve(client, rent, signed(client, authenticator, rent))

    assert not paid(rent) and len(refusals()) == 1


@pytest.mark.parametrize(("origin", "rp_id"), [("https://evil.example", None), (None, "evil.example")])
def test_a_wrong_origin_or_relying_party_is_refused(alice_with_passkey, drafts, origin, rp_id):
    client, authenticator = alice_with_passkey
    _, rent, _ = drafts
    public_key = options(client, f"/draft-payments/{rent.pk}/approve/")["publicKey"]

    approve(client, rent, authenticator.get(public_key, origin=origin, rp_id=rp_id))

    assert not paid(rent) and len(refusals()) == 1


def test_a_passkey_removed_in_another_tab_is_refused(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    register(client, SoftAuthenticator(), "Laptop")  # so that the customer still has a passkey
    _, rent, _ = drafts
    credential = signed(client, authenticator, rent)
    phone = Passkey.objects.get(name="My phone")
    client.post(f"/profile/settings/security/passkeys/{phone.pk}/remove/", {"password": PASSWORD})

    approve(client, rent, credential)

    assert not paid(rent) and refusals("unknown_credential")


def test_an_expired_challenge_is_refused(alice_with_passkey, drafts):
    client, authenticator = alice_with_passkey
    _, rent, _ = drafts
    credential = signed(client, authenticator, rent)
    PasskeyChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    approve(client, rent, credential)

    assert not paid(rent) and refusals("challenge_expired")


def test_garbage_is_refused_and_audited(alice_with_passkey, drafts):
    client, _ = alice_with_passkey
    _, rent, _ = drafts
    for garbage in ("not json", "[]", json.dumps({"response": {"clientDataJSON": "!!"}})):
        approve(client, rent, garbage)
    assert not paid(rent) and len(refusals("malformed")) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_assertion_sent_four_times_at_once_pays_once(alice, drafts):
    client = logged_in(alice)
    authenticator = SoftAuthenticator()
    register(client, authenticator)
    main, rent, _ = drafts
    credential = signed(client, authenticator, rent)
    at_once(4, lambda _: approve(client, rent, credential))

    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-450.00")).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.PASSKEY_USED).count() == 1


def test_a_payment_request_is_paid_with_the_passkey_from_the_account_it_names(alice_with_passkey, alice, bob):
    client, authenticator = alice_with_passkey
    main = make_account(alice, balance="100.00", description="Main")
    savings = make_account(alice, type="SAVINGS", balance="100.00", description="Savings")
    bobs = make_account(bob, description="Bob's")
    request_money(bob, bobs, "12.50", {"type": "EMAIL", "value": alice.email}, description="Pizza")
    response = RequestResponse.objects.get()
    url = f"/payment-requests/{response.pk}/pay/"
    answer = options(client, url, {"account": main.pk})
    assert "pay €12.50 to Bob de Vries from Main" in answer["summary"]
    credential = authenticator.get(answer["publicKey"])

    client.post(url, {"account": savings.pk, "passkey_credential": credential})  # another account than approved
    assert RequestResponse.objects.get().status == RequestStatus.PENDING and refusals("approval_changed")

    credential = authenticator.get(options(client, url, {"account": main.pk})["publicKey"])
    client.post(url, {"account": main.pk, "passkey_credential": credential})
    assert RequestResponse.objects.get().status == RequestStatus.ACCEPTED
    main.refresh_from_db()
    assert main.balance == Decimal("87.50")


def test_customers_without_a_passkey_keep_the_password_and_are_invited(alice, drafts):
    client = logged_in(alice)
    _, rent, _ = drafts
    page = client.get("/draft-payments/").content.decode()
    assert "Your password, to approve" in page and "add a passkey" in page and "passkeys.js" not in page
    answer = client.post(f"/draft-payments/{rent.pk}/approve/", {"passkey_step": "options"})
    assert answer.status_code == 400 and answer.json()["code"] == "passkey_required"

    client.post(f"/draft-payments/{rent.pk}/approve/", {"password": PASSWORD})

    assert paid(rent)


# --- logging in with a passkey ----------------------------------------------------------------------


def test_a_customer_logs_in_with_a_passkey_alone(alice_with_passkey, alice):
    _, authenticator = alice_with_passkey
    browser = Client()
    public_key = options(browser, "/accounts/passkey/")["publicKey"]
    assert public_key.get("allowCredentials", []) == []  # discoverable: the passkey says who it is

    response = browser.post("/accounts/passkey/", {"passkey_credential": authenticator.get(public_key)})

    assert response.status_code == 303 and response["Location"] == "/"
    assert browser.get("/").context["user"] == alice
    assert AuditEvent.objects.filter(action=AuditAction.PASSKEY_USED, data__operation="login").exists()
    # The same assertion again, from another browser: refused.
    other = Client()
    options(other, "/accounts/passkey/")
    refused = other.post("/accounts/passkey/", {"passkey_credential": authenticator.get(public_key)}, follow=True)
    assert "could not log you in" in refused.content.decode() and not refused.context["user"].is_authenticated


def test_a_blocked_customer_cannot_log_in_with_a_passkey(alice_with_passkey, alice):
    _, authenticator = alice_with_passkey
    alice.is_active = False
    alice.save()
    browser = Client()
    public_key = options(browser, "/accounts/passkey/")["publicKey"]

    page = browser.post("/accounts/passkey/", {"passkey_credential": authenticator.get(public_key)}, follow=True)

    assert "cannot log in here" in page.content.decode() and not page.context["user"].is_authenticated


def test_staff_log_in_with_their_password_not_a_passkey(db):
    staff = UserFactory(username="ops", is_staff=True)
    authenticator = SoftAuthenticator()
    register(logged_in(staff), authenticator)
    browser = Client()
    public_key = options(browser, "/accounts/passkey/")["publicKey"]

    page = browser.post("/accounts/passkey/", {"passkey_credential": authenticator.get(public_key)}, follow=True)

    assert not page.context["user"].is_authenticated


# --- consent to a money-moving scope ---------------------------------------------------------------


def consent_page(client: Client, scope: str):
    _, challenge = pkce_pair()
    page = client.get(authorize_url(challenge=challenge, scope=scope))
    assert page.status_code == 200, page.content[:300]
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, "") and k not in ("scope", "accounts")}
    data.update(scope=form.initial["scope"], accounts=form.initial["accounts"], allow="true")
    return page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data


def test_allowing_a_money_moving_scope_needs_the_passkey_bound_to_the_app_scopes_and_accounts(
    alice_with_passkey, alice
):
    client, authenticator = alice_with_passkey
    main = make_account(alice, description="Main")
    make_account(alice, type="SAVINGS", description="Savings")
    make_application()
    url, data = consent_page(client, "accounts:read payments:internal")
    assert b"passkeys.js" in client.get(url).content

    without = client.post(url, data)
    assert without.status_code == 400 and "Confirm with your passkey" in without.content.decode()
    assert not Connection.objects.exists()

    answer = client.post(url, {**data, "passkey_step": "options"}).json()
    assert "Budget Buddy" in answer["summary"] and "payments:internal" in answer["summary"]
    credential = authenticator.get(answer["publicKey"])
    narrower = client.post(url, {**data, "accounts": [main.pk], "passkey_credential": credential})
    assert narrower.status_code == 400 and not Connection.objects.exists() and refusals("approval_changed")

    credential = authenticator.get(client.post(url, {**data, "passkey_step": "options"}).json()["publicKey"])
    allowed = client.post(url, {**data, "passkey_credential": credential})
    assert allowed.status_code in (302, 303) and "code=" in allowed["Location"]
    assert Connection.objects.get().scope == "accounts:read payments:internal"


def test_only_allow_with_a_money_scope_asks_for_a_challenge_and_asking_grants_nothing(alice_with_passkey, alice):
    client, _ = alice_with_passkey
    make_account(alice)
    make_application()
    url, data = consent_page(client, "accounts:read payments:internal")

    deny = client.post(url, {**{k: v for k, v in data.items() if k != "allow"}, "passkey_step": "options"})
    no_money = client.post(url, {**data, "scope": ["accounts:read"], "passkey_step": "options"})

    assert deny.status_code == no_money.status_code == 400
    assert deny.json()["code"] == no_money.json()["code"] == "passkey_not_needed"
    assert not Connection.objects.exists() and not PasskeyChallenge.objects.filter(operation__startswith="consent")
    assert not AuditEvent.objects.filter(action=AuditAction.CONSENT_DENIED).exists()


def test_a_consent_without_money_needs_no_passkey(alice_with_passkey, alice):
    client, _ = alice_with_passkey
    make_account(alice)
    make_application()
    url, data = consent_page(client, "accounts:read")

    allowed = client.post(url, data)

    assert allowed.status_code in (302, 303) and Application.objects.get().connections.count() == 1


def test_spent_and_expired_challenges_are_pruned(alice_with_passkey):
    client, _ = alice_with_passkey
    options(client, "/accounts/passkey/")
    fresh = options(client, "/accounts/passkey/")
    PasskeyChallenge.objects.exclude(pk=PasskeyChallenge.objects.latest("pk").pk).update(
        expires_at=timezone.now() - timedelta(hours=2)
    )

    assert passkey_challenges_prune.call() == 2  # the registration's and the first login's

    assert PasskeyChallenge.objects.count() == 1 and fresh


def test_refused_passkey_logins_count_against_the_address_and_then_stop(db, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = "3/15min"
    browser = Client()
    for _ in range(3):
        options(browser, "/accounts/passkey/")
        browser.post("/accounts/passkey/", {"passkey_credential": "garbage"})
    assert len(refusals("malformed")) == 3

    locked = browser.post("/accounts/passkey/", {"passkey_credential": "garbage"}, follow=True)
    asked = browser.post("/accounts/passkey/", {"passkey_step": "options"})

    assert "Too many failed logins" in locked.content.decode() and asked.status_code == 303
    assert len(refusals()) == 3  # nothing more written for whoever keeps trying


def test_login_challenges_are_limited_per_address(db):
    browser = Client()
    statuses = [browser.post("/accounts/passkey/", {"passkey_step": "options"}).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    assert PasskeyChallenge.objects.count() == 20
