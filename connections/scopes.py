"""The OAuth scopes: defined once here, read by the toolkit's settings, the consent screen, the help
page, the connections pages and the API permissions."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from oauth2_provider.scopes import BaseScopes

from bank.vocabulary import NotificationCategory

if TYPE_CHECKING:
    from .models import Application


@dataclass(frozen=True)
class Scope:
    name: str
    sentence: str
    money_moving: bool = False
    read_only: bool = False
    note: str = ""


SCOPES: tuple[Scope, ...] = (
    Scope("accounts:read", "See your monetary accounts and their balances", read_only=True),
    Scope("accounts:create", "Open new monetary accounts for you: bank, savings or joint"),
    Scope("payments:read", "See your payments", read_only=True),
    Scope(
        "payments:internal",
        "Move money between your own accounts, without asking you each time",
        money_moving=True,
    ),
    Scope("draft_payments:read", "See the draft payments that it prepared", read_only=True),
    Scope(
        "draft_payments:write",
        "Prepare payments that you must approve before anything is paid",
        money_moving=True,
        note="Money moves only after you approve each draft in the bank's own pages.",
    ),
    Scope("cards:link", "Change which of your accounts a card is linked to"),
    Scope("cards:order", "Order new cards for you"),
    Scope("cards:manage", "Manage your cards: freeze, unfreeze, cancel, set limits"),
    Scope("request_inquiries:read", "See the payment requests you sent", read_only=True),
    Scope("request_inquiries:write", "Send payment requests on your behalf"),
    Scope("request_responses:read", "See the payment requests you received", read_only=True),
)

BY_NAME: dict[str, Scope] = {scope.name: scope for scope in SCOPES}
ALL: tuple[str, ...] = tuple(BY_NAME)
READ_ONLY: tuple[str, ...] = tuple(scope.name for scope in SCOPES if scope.read_only)
MONEY_MOVING: frozenset[str] = frozenset(scope.name for scope in SCOPES if scope.money_moving)
CARD_SCOPES: tuple[str, ...] = ("cards:link", "cards:order", "cards:manage")

# What a notification filter's category needs (SPEC §9): one of these scopes, or any token (None).
CATEGORY_SCOPES: dict[NotificationCategory, frozenset[str] | None] = {
    NotificationCategory.PAYMENT: frozenset({"payments:read"}),
    NotificationCategory.DRAFT_PAYMENT: frozenset({"draft_payments:read"}),
    NotificationCategory.REQUEST: frozenset({"request_inquiries:read", "request_responses:read"}),
    NotificationCategory.CARD: frozenset(CARD_SCOPES),
    NotificationCategory.CONNECTION: None,
}

# Resource servers that may call /o/introspect/ need this scope; customers never grant it.
INTROSPECTION = "introspection"


def ordered(names: Iterable[str]) -> list[str]:
    """Known scope names from `names`, in the table's order; unknown names are dropped."""
    wanted = set(names)
    return [name for name in ALL if name in wanted]


def describe(names: Iterable[str]) -> list[Scope]:
    return [BY_NAME[name] for name in ordered(names)]


class ApplicationScopes(BaseScopes):
    """The toolkit's scopes backend: an application may ask only for what staff allowed it.

    No query: the application row is already loaded by the toolkit when this is called.
    """

    def get_all_scopes(self) -> dict[str, str]:
        scopes = {scope.name: scope.sentence for scope in SCOPES}
        scopes[INTROSPECTION] = "Introspect tokens (resource servers only)"
        return scopes

    def get_available_scopes(
        self, application: "Application | None" = None, request: object = None, *args: object, **kwargs: object
    ) -> list[str]:
        if application is None or settings.BANK_SANDBOX:
            return list(ALL)  # in the sandbox, the consent page checks the customer (a test one?)
        return application.allowed_scope_list()

    def get_default_scopes(
        self, application: "Application | None" = None, request: object = None, *args: object, **kwargs: object
    ) -> list[str]:
        allowed = set(self.get_available_scopes(application, request))
        return [name for name in READ_ONLY if name in allowed]
