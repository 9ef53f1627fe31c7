"""The sandbox: developers make test customers with demo money, and any app may ask a test customer
for any scope; real customers grant only what staff allowed the app, in the sandbox too."""

import re
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.db.models import ProtectedError
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bank.core.errors import ErrorCode, PermissionDenied
from bank.models import AccountType, AuditEvent, DraftPayment, MonetaryAccount, Payment, RequestInquiry, SandboxCustomer
from bank.services.customers import SANDBOX_CUSTOMERS_MAX
from bank.vocabulary import AuditAction
from connections.models import Connection
from connections.scopes import READ_ONLY
from connections.services.callbacks import notification_filter_create
from connections.services.connections import connection_grant
from tests.connections.oauth_helpers import CLIENT_ID, api_get, authorize_url, consent, exchange, make_application
from tests.factories import main_and_savings, make_account, pay, prepare_draft, request_money, transfer_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(settings):
    settings.BANK_SANDBOX = True
    settings.BANK_DEMO_DATA_ALLOWED = False  # sandbox money, not the demo's
    return settings


def make_test_customer(client: Client, developer) -> tuple[str, str]:
    client.force_login(developer)
    page = client.post("/developers/test-customers/")
    assert page.status_code == 200, page.content[:300]
    html = page.content.decode()
    username = re.search(r"<dt>Username</dt><dd><code>([^<]+)</code>", html).group(1)
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    assert page["Cache-Control"].startswith("max-age=0") and "no-store" in page["Cache-Control"]
    return username, password


def test_a_developer_makes_a_test_customer_with_demo_money(sandbox, alice, django_user_model):
    client = Client()
    username, password = make_test_customer(client, alice)

    customer = django_user_model.objects.get(username=username)
    assert SandboxCustomer.objects.get(customer=customer).developer == alice
    accounts = {a.type: a for a in MonetaryAccount.objects.filter(owner=customer)}
    assert accounts[AccountType.BANK].balance == Decimal("1000.00")
    assert accounts[AccountType.SAVINGS].balance == Decimal("0.00")
    assert AuditEvent.objects.filter(
        action=AuditAction.SANDBOX_CUSTOMER_CREATED, actor=alice, customer=customer
    ).exists()
    assert username in client.get("/developers/").content.decode()
    # The password works, and the bank never shows it again.
    login = Client().post("/accounts/login/", {"username": username, "password": password})
    assert login.status_code == 302, login.content[:300]
    assert password not in client.get("/developers/").content.decode()


def test_test_customers_are_limited_and_make_none_themselves(sandbox, alice, django_user_model):
    client = Client()
    for _ in range(SANDBOX_CUSTOMERS_MAX):
        username, _password = make_test_customer(client, alice)
    refused = client.post("/developers/test-customers/", follow=True)
    assert f"You have {SANDBOX_CUSTOMERS_MAX} test customers" in refused.content.decode()
    assert SandboxCustomer.objects.filter(developer=alice).count() == SANDBOX_CUSTOMERS_MAX

    test_client = Client()
    test_client.force_login(django_user_model.objects.get(username=username))
    assert "cannot make test customers" in test_client.post("/developers/test-customers/", follow=True).content.decode()


def test_without_the_sandbox_there_are_no_test_customers(alice):
    client = Client()
    client.force_login(alice)
    assert "Make a test customer" not in client.get("/developers/").content.decode()
    assert client.post("/developers/test-customers/").status_code == 404
    assert not SandboxCustomer.objects.exists()


def test_sandbox_money_stays_among_test_customers(sandbox, alice, bob, django_user_model):
    """A test customer's money is demo money. Paying it to a real customer (its own developer too) or
    out of the bank is refused and nothing moves, and no real customer pays a test customer; test
    customers pay each other. Drafts, payment requests and joint accounts across the boundary are
    refused when they are made, not when they would be paid. Turning the sandbox off changes none of
    that."""
    developer = Client()
    tester, other = (django_user_model.objects.get(username=make_test_customer(developer, alice)[0]) for _ in "ab")
    main, savings = MonetaryAccount.objects.filter(owner=tester).order_by("id")
    others = MonetaryAccount.objects.filter(owner=other).order_by("id").first()
    alices, bobs = make_account(alice, balance="50.00"), make_account(bob)

    pay(tester, main, "10.00", others.iban)
    pay(tester, main, "5.00", savings.iban)
    request_money(tester, main, "1.00", {"type": "EMAIL", "value": other.email})
    booked, asked = Payment.objects.count(), RequestInquiry.objects.count()
    outside = {"type": "IBAN", "value": "NL91ABNA0417164300", "name": "Shop"}

    def refused(act, *args, **kwargs) -> str | None:
        with pytest.raises(PermissionDenied) as refusal:
            act(*args, **kwargs)
        assert refusal.value.code == ErrorCode.SANDBOX_MONEY, args
        return refusal.value.field

    for real in ({"type": "IBAN", "value": alices.iban}, {"type": "EMAIL", "value": "bob@example.com"}, outside):
        refused(pay, tester, main, "1.00", real)
        assert refused(prepare_draft, tester, main, "1.00", real) == "entries.0.counterparty_alias"
    assert refused(request_money, tester, main, "1.00", outside) == "counterparty_alias"
    refused(request_money, alice, alices, "1.00", {"type": "EMAIL", "value": tester.email})
    refused(pay, alice, alices, "1.00", main.iban)
    # A joint account has test customers only, or none.
    assert refused(make_account, tester, type=AccountType.JOINT, co_owner_email=bob.email) == "co_owner"
    refused(make_account, bob, type=AccountType.JOINT, co_owner_email=tester.email)
    make_account(tester, type=AccountType.JOINT, co_owner_email=other.email)
    sandbox.BANK_SANDBOX = False
    refused(pay, tester, main, "1.00", bobs.iban)

    assert (Payment.objects.count(), RequestInquiry.objects.count()) == (booked, asked)
    assert not DraftPayment.objects.exists()
    balances = MonetaryAccount.objects.in_bulk([main.pk, alices.pk, bobs.pk])
    assert [balances[a.pk].balance for a in (main, alices, bobs)] == [Decimal("985.00"), Decimal("50.00"), 0]


def test_a_transfer_between_ones_own_accounts_does_not_look_up_the_sandbox(alice):
    """The common transfer cannot cross the boundary, so it costs no query for it."""
    main, savings = main_and_savings(alice, "10.00")
    with CaptureQueriesContext(db_connection) as queries:
        pay(alice, main, "1.00", savings.iban)
    assert not [query for query in queries if SandboxCustomer._meta.db_table in query["sql"]]


def test_a_test_customers_mark_outlives_its_developer(sandbox, alice):
    """Deleting the developer never turns test customers into real ones (with real money)."""
    make_test_customer(Client(), alice)
    with pytest.raises(ProtectedError) as refused:
        alice.delete()
    assert any(isinstance(row, SandboxCustomer) for row in refused.value.protected_objects)
    assert SandboxCustomer.objects.filter(developer=alice).exists()


def test_a_test_customer_grants_an_unreviewed_app_a_money_scope_and_it_moves_money(sandbox, alice, django_user_model):
    make_application(verified=False, allowed_scopes=" ".join(READ_ONLY))
    username, _password = make_test_customer(Client(), alice)
    tester = django_user_model.objects.get(username=username)
    main, savings = MonetaryAccount.objects.filter(owner=tester).order_by("id")

    client = Client()
    auth = consent(client, tester, scope="accounts:read payments:internal")
    token = exchange(client, auth).json()
    assert set(token["scope"].split()) == {"accounts:read", "payments:internal"}
    client.logout()
    paid = client.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        transfer_body("25.00", savings, name="Test Customer", description="Sandbox saving"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
    )
    assert paid.status_code == 201, paid.content

    # Turned off, the sandbox's grants beyond the app's allowed scopes stop at the next call.
    sandbox.BANK_SANDBOX = False
    again = client.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        transfer_body("1.00", savings, name="Test Customer"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
    )
    assert again.status_code == 403
    assert api_get(client, "/api/v1/monetary-accounts/", token["access_token"]).status_code == 200


def test_a_real_customer_in_the_sandbox_grants_only_what_staff_allowed(sandbox, alice, account_for):
    make_application(verified=True, allowed_scopes=" ".join(READ_ONLY))
    account_for(alice)
    client = Client()
    client.force_login(alice)

    page = client.get(authorize_url(client_id=CLIENT_ID, challenge="x" * 43, scope="accounts:read payments:internal"))

    assert page.status_code == 400
    html = page.content.decode()
    assert "invalid_scope" in html and "payments:internal" in html and "test customers" in html
    assert not Connection.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.OAUTH_REFUSED).exists()
    # What staff allowed is still granted as usual.
    auth = consent(client, alice, scope="accounts:read")
    assert exchange(client, auth).json()["scope"] == "accounts:read"


def test_callbacks_follow_the_same_rule_as_the_api(sandbox, alice, django_user_model):
    """A test customer's grant beyond the app's allowed scopes is heard by callbacks too; a real
    customer's connection to the same app is not (nothing beyond what staff allowed reaches the app)."""
    application = make_application(verified=False, allowed_scopes=" ".join(READ_ONLY))
    username, _password = make_test_customer(Client(), alice)
    tester = django_user_model.objects.get(username=username)
    test_connection = connection_grant(
        user=tester, application=application, scopes=["cards:link"], accounts=list(tester.owned_accounts.all())
    )
    real_connection = connection_grant(
        user=alice, application=application, scopes=["cards:link"], accounts=[make_account(alice)]
    )

    heard = notification_filter_create(connection=test_connection, category="CARD", target="https://app.example/h")
    assert heard.category == "CARD"
    with pytest.raises(PermissionDenied):
        notification_filter_create(connection=real_connection, category="CARD", target="https://app.example/h")
