"""Demo data for local use (SPEC §7). Idempotent: running it again changes nothing.
Refused under production settings."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret

from bank.models import AccountType, CardType, MonetaryAccount
from bank.selectors import Pointer
from bank.services.accounts import account_deposit, account_open
from bank.services.cards import card_order
from bank.services.payments import payment_create
from connections import scopes
from connections.keys import checked_jwks
from connections.models import Application, TokenEndpointAuthMethod
from connections.services.callbacks import signing_secret_set

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105  (local demo data only, SPEC §7)
DEMO_CLIENT_ID = "demo-budget-app"
DEMO_CLIENT_SECRET = "demo-budget-secret"  # noqa: S105  (local demo data only, SPEC §7)
DEMO_REDIRECT_URI = "http://127.0.0.1:8001/callback"
DEMO_SIGNING_SECRET = "whsec_ZGVtby1idWRnZXQtd2ViaG9vay1zZWNyZXQ="  # noqa: S105  (Budget Buddy's callbacks, SPEC §9)
# Budget Buddy (FAPI): private_key_jwt with this public key (its private half lives in the example app,
# for local demos only), DPoP-bound tokens, pushed authorization requests.
DEMO_FAPI_CLIENT_ID = "demo-fapi-app"
DEMO_FAPI_REDIRECT_URI = "http://127.0.0.1:8001/fapi/callback"
DEMO_FAPI_JWKS = (
    '{"keys":[{"kty":"EC","crv":"P-256","kid":"demo-fapi-key-1","use":"sig","alg":"ES256",'
    '"x":"KOxgMzKBTRV8GiHZJ47f30q99jLpZfXVrpjx0toTl7Q","y":"JgJz21Ug9tXHIzp3_Iev9zxA5DormmBW1j5NcUVruew"}]}'
)

CUSTOMERS = [
    ("alice", "alice@example.com", "Alice", "Jansen", Decimal("2500.00")),
    ("bob", "bob@example.com", "Bob", "de Vries", Decimal("1200.00")),
]


class Command(BaseCommand):
    help = "Create the demo customers alice and bob, the staff user admin and the Budget Buddy app."

    def handle(self, *args: object, **options: object) -> None:
        if not getattr(settings, "BANK_DEMO_DATA_ALLOWED", False):
            raise CommandError("Demo data is for local use only; these settings do not allow it.")
        with transaction.atomic():
            admin = self._user("admin", "admin@example.com", "Bank", "Staff", staff=True)
            customers = {
                username: (self._user(username, email, first, last), opening)
                for username, email, first, last, opening in CUSTOMERS
            }
            for user, opening in customers.values():
                self._accounts(user, opening, admin)
            alice, bob = customers["alice"][0], customers["bob"][0]
            self._first_payments(alice, bob)
            self._application(admin)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Customers: alice, bob; staff: admin; password: {DEMO_PASSWORD}. "
                f"OAuth clients: {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}; "
                f"{DEMO_FAPI_CLIENT_ID} (FAPI, private_key_jwt)."
            )
        )

    def _user(self, username: str, email: str, first: str, last: str, staff: bool = False) -> User:
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={"email": email, "first_name": first, "last_name": last, "is_staff": staff, "is_superuser": staff},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _accounts(self, user: User, opening: Decimal, admin: User) -> None:
        if MonetaryAccount.objects.filter(owner=user).exists():
            return
        main = account_open(owner=user, type=AccountType.BANK, description="Main account", actor=user)
        account_open(
            owner=user, type=AccountType.SAVINGS, description="Savings", savings_goal=Decimal("5000.00"), actor=user
        )
        account_deposit(account=main, amount=opening, description="Opening deposit", actor=admin)
        card_order(
            customer=user, type=CardType.DEBIT, name_on_card=user.get_full_name(), primary_account=main, actor=user
        )

    def _first_payments(self, alice: User, bob: User) -> None:
        alice_main = MonetaryAccount.objects.filter(owner=alice, type=AccountType.BANK).order_by("id").first()
        bob_main = MonetaryAccount.objects.filter(owner=bob, type=AccountType.BANK).order_by("id").first()
        alice_savings = MonetaryAccount.objects.filter(owner=alice, type=AccountType.SAVINGS).order_by("id").first()
        assert alice_main and bob_main and alice_savings
        if alice_main.payments.count() > 1:
            return
        streamly: Pointer = {"type": "IBAN", "value": "NL91ABNA0417164300", "name": "Streamly B.V."}
        first_payments: list[tuple[User, MonetaryAccount, str, str, Pointer]] = [
            (alice, alice_main, "42.50", "Dinner, thanks!", {"type": "EMAIL", "value": bob.email}),
            (alice, alice_main, "300.00", "Monthly saving", {"type": "IBAN", "value": alice_savings.iban}),
            (bob, bob_main, "19.99", "Music subscription", streamly),
        ]
        for payer, source, amount, text, to in first_payments:
            payment_create(
                customer=payer, source=source, amount=Decimal(amount), description=text, counterparty=to, actor=payer
            )

    def _application(self, admin: User) -> None:
        # Budget Buddy in its two modes: both verified, with every scope, from the same developer.
        common = {
            "user": admin,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "allowed_scopes": " ".join(scopes.ALL),
            "developer_name": "Budget Buddy Ltd",
            "website": "https://budgetbuddy.example",
            "verified": True,
        }
        if not Application.objects.filter(client_id=DEMO_FAPI_CLIENT_ID).exists():
            Application.objects.create(
                **common,
                client_id=DEMO_FAPI_CLIENT_ID,
                client_secret=generate_client_secret(),  # never used: it authenticates with private_key_jwt
                name="Budget Buddy (FAPI)",
                redirect_uris=DEMO_FAPI_REDIRECT_URI,
                token_endpoint_auth_method=TokenEndpointAuthMethod.PRIVATE_KEY_JWT,
                jwks=checked_jwks(DEMO_FAPI_JWKS),
                dpop_bound_access_tokens=True,
                require_pushed_authorization_requests=True,
            )
        if Application.objects.filter(client_id=DEMO_CLIENT_ID).exists():
            return
        budget_buddy = Application.objects.create(
            **common,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            name="Budget Buddy",
            redirect_uris=DEMO_REDIRECT_URI,
        )
        signing_secret_set(application=budget_buddy, secret=DEMO_SIGNING_SECRET)
