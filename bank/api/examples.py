"""Request and response examples for the OpenAPI schema, kept beside it rather than in the views.

They are the requests of one customer: their main account is 1 (`MAIN_ACCOUNT_ID`), their savings
account has the IBAN `SAVINGS_IBAN`, and bob@example.com is another customer of the bank.
tests/api/test_examples.py plays every request example as the demo customer alice (her ids and IBAN
in those places) and checks the documented answer, so that no example can lie."""

from drf_spectacular.utils import OpenApiExample

MAIN_ACCOUNT_ID = 1
SAVINGS_IBAN = "NL12BANK0123456789"
AMOUNT = {"value": "12.50", "currency": "EUR"}

ACCOUNT_CREATE = [
    OpenApiExample(
        "Savings",
        request_only=True,
        value={"type": "SAVINGS", "description": "Holiday", "savings_goal": {"value": "1500.00", "currency": "EUR"}},
    ),
    OpenApiExample(
        "Joint",
        request_only=True,
        value={"type": "JOINT", "description": "Household", "co_owner": {"type": "EMAIL", "value": "bob@example.com"}},
    ),
]

PAYMENT_CREATE = [
    OpenApiExample(
        "To savings",
        request_only=True,
        value={
            "amount": AMOUNT,
            "counterparty_alias": {"type": "IBAN", "value": SAVINGS_IBAN, "name": "Alice Jansen"},
            "description": "Round-up",
        },
    ),
    OpenApiExample(
        "Transfer made",
        response_only=True,
        status_codes=["201"],
        value={
            "id": 812,
            "monetary_account_id": MAIN_ACCOUNT_ID,
            "amount": {"value": "-12.50", "currency": "EUR"},
            "description": "Round-up",
            "counterparty_alias": {"type": "IBAN", "value": SAVINGS_IBAN, "name": "Alice Jansen"},
            "balance_after_mutation": {"value": "487.50", "currency": "EUR"},
            "created": "2026-11-25T13:05:00Z",
        },
    ),
    OpenApiExample(
        "Someone else's account",
        response_only=True,
        status_codes=["403"],
        value={
            "type": "https://bank.example/developers/problems/use_draft_payment/",
            "title": "Not allowed",
            "status": 403,
            "detail": "With payments:internal an app can move money only between the customer's own "
            "accounts. To pay anyone else, create a draft payment for the customer to approve.",
            "code": "use_draft_payment",
        },
    ),
]

DRAFT_CREATE = [
    OpenApiExample(
        "Rent",
        request_only=True,
        value={
            "entries": [
                {
                    "amount": {"value": "950.00", "currency": "EUR"},
                    "counterparty_alias": {"type": "IBAN", "value": "DE89370400440532013000", "name": "Landlord"},
                    "description": "Rent December",
                }
            ]
        },
    )
]

CARD_CREATE = [
    OpenApiExample(
        "Virtual card",
        request_only=True,
        value={"type": "VIRTUAL", "name_on_card": "Alice Example", "primary_account_id": MAIN_ACCOUNT_ID},
    )
]

REQUEST_INQUIRY_CREATE = [
    OpenApiExample(
        "Dinner",
        request_only=True,
        value={
            "amount": {"value": "24.00", "currency": "EUR"},
            "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com"},
            "description": "Dinner on Friday",
        },
    )
]
