"""Input and output serializers for SPEC §5's objects. Input serializers only parse and validate the
shape; what is allowed is the services' business. Output serializers render rows that the views
loaded with everything they need (no query from a serializer)."""

from decimal import Decimal
from typing import NotRequired, TypedDict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bank.core.errors import ErrorCode
from bank.models import (
    AccountType,
    CardStatus,
    CardType,
    CoOwner,
    CounterpartyType,
    DraftPayment,
    DraftStatus,
    RequestResponse,
    RequestStatus,
)
from bank.selectors import Pointer, display_name
from bank.services.drafts import DraftEntryInput
from bank.vocabulary import (
    ACCOUNT_DESCRIPTION_MAX,
    DRAFT_ENTRIES_MAX,
    NAME_ON_CARD_MAX,
    NOTIFICATION_TARGET_MAX,
    PAYMENT_DESCRIPTION_MAX,
    REASON_MAX,
    NotificationCategory,
)

from .fields import AmountField, AmountOutField, PointerOutField, PointerSerializer, StrictSerializer

# What each input serializer's `parse` returns: the shape the services take.


class AccountCreate(TypedDict):
    type: str
    description: str
    savings_goal: NotRequired[Decimal]
    co_owner: NotRequired[Pointer]


class Transfer(TypedDict):
    """A payment or a payment request: an amount, a counterparty, a description."""

    amount: Decimal
    counterparty_alias: Pointer
    description: str


class DraftCreate(TypedDict):
    entries: list[DraftEntryInput]


class DraftUpdate(TypedDict):
    status: str
    reason: str


class CardCreate(TypedDict):
    type: str
    name_on_card: str
    primary_account_id: int
    limits: NotRequired[Decimal]


class CardUpdate(TypedDict, total=False):
    primary_account_id: int
    status: str
    limits: Decimal
    secondary_account_id: int | None


class StatusUpdate(TypedDict):
    status: str


# --- Monetary accounts ----------------------------------------------------------------------


class CoOwnerSerializer(serializers.Serializer):
    name = serializers.SerializerMethodField()
    status = serializers.CharField()

    def get_name(self, co_owner: CoOwner) -> str:
        return display_name(co_owner.user)


class MonetaryAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=AccountType.choices)
    description = serializers.CharField()
    iban = serializers.CharField()
    balance = AmountOutField()
    status = serializers.CharField()
    savings_goal = AmountOutField(allow_null=True, help_text="Savings accounts only.")
    co_owners = CoOwnerSerializer(many=True, help_text="Joint accounts only.")
    created = serializers.DateTimeField()


class MonetaryAccountCreateSerializer(StrictSerializer[AccountCreate]):
    read_only_from = MonetaryAccountSerializer

    type = serializers.ChoiceField(choices=AccountType.choices)
    description = serializers.CharField(max_length=ACCOUNT_DESCRIPTION_MAX)
    savings_goal = AmountField(required=False, help_text="Savings accounts only.")
    co_owner = PointerSerializer(required=False, help_text="Joint accounts only: the co-owner's EMAIL pointer.")

    def validate_co_owner(self, value: Pointer) -> Pointer:
        if value["type"] != CounterpartyType.EMAIL:
            raise serializers.ValidationError(
                "The co-owner is named by an EMAIL pointer.", code=ErrorCode.EMAIL_REQUIRED
            )
        return value


# --- Payments -------------------------------------------------------------------------------


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    monetary_account_id = serializers.IntegerField()
    amount = AmountOutField(help_text="Signed from the account's side: negative for money out.")
    description = serializers.CharField()
    counterparty_alias = PointerOutField()
    balance_after_mutation = AmountOutField(source="balance_after")
    created = serializers.DateTimeField()


def description_field() -> serializers.CharField:
    return serializers.CharField(max_length=PAYMENT_DESCRIPTION_MAX, required=False, allow_blank=True, default="")


class PaymentCreateSerializer(StrictSerializer[Transfer]):
    read_only_from = PaymentSerializer

    amount = AmountField()
    counterparty_alias = PointerSerializer(help_text="With payments:internal, one of the customer's own accounts.")
    description = description_field()


# --- Draft payments -------------------------------------------------------------------------


class DraftEntrySerializer(serializers.Serializer):
    amount = AmountOutField()
    counterparty_alias = PointerOutField()
    description = serializers.CharField()


class DraftPaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    monetary_account_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=DraftStatus.choices, source="shown_status")
    entries = DraftEntrySerializer(many=True)
    payment_ids = serializers.SerializerMethodField()
    reason = serializers.CharField(help_text="Why the customer rejected it, or why it was cancelled.")
    expires_at = serializers.DateTimeField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()

    def get_payment_ids(self, draft: DraftPayment) -> list[int]:
        return [entry.payment_id for entry in draft.entries.all() if entry.payment_id is not None]


class DraftEntryCreateSerializer(StrictSerializer[DraftEntryInput]):
    amount = AmountField()
    counterparty_alias = PointerSerializer()
    description = description_field()


class DraftPaymentCreateSerializer(StrictSerializer[DraftCreate]):
    read_only_from = DraftPaymentSerializer

    entries = serializers.ListField(child=DraftEntryCreateSerializer(), min_length=1, max_length=DRAFT_ENTRIES_MAX)


class DraftPaymentUpdateSerializer(StrictSerializer[DraftUpdate]):
    read_only_from = DraftPaymentSerializer

    status = serializers.ChoiceField(choices=DraftStatus.choices, help_text="An app may only set CANCELLED.")
    reason = serializers.CharField(max_length=REASON_MAX, required=False, allow_blank=True, default="")


# --- Cards ----------------------------------------------------------------------------------


class CardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=CardType.choices)
    status = serializers.ChoiceField(choices=CardStatus.choices)
    name_on_card = serializers.CharField()
    last_four = serializers.CharField()
    expiry_date = serializers.DateField()
    primary_account_id = serializers.IntegerField()
    secondary_account_id = serializers.IntegerField(allow_null=True)
    limits = AmountOutField(source="daily_limit", help_text="The daily spending limit.")
    created = serializers.DateTimeField()


class CardCreateSerializer(StrictSerializer[CardCreate]):
    read_only_from = CardSerializer

    type = serializers.ChoiceField(choices=CardType.choices)
    name_on_card = serializers.CharField(max_length=NAME_ON_CARD_MAX)
    primary_account_id = serializers.IntegerField(min_value=1)
    limits = AmountField(allow_zero=True, required=False, help_text="The daily spending limit.")


class CardUpdateSerializer(StrictSerializer[CardUpdate]):
    read_only_from = CardSerializer

    primary_account_id = serializers.IntegerField(min_value=1, required=False, help_text="cards:link or cards:manage")
    status = serializers.ChoiceField(choices=CardStatus.choices, required=False, help_text="cards:manage")
    limits = AmountField(allow_zero=True, required=False, help_text="cards:manage; the daily spending limit.")
    secondary_account_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Never through the API (403): the customer sets it in the bank."
    )


# --- Payment requests -----------------------------------------------------------------------


class RequestInquirySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    monetary_account_id = serializers.IntegerField()
    amount = AmountOutField()
    counterparty_alias = PointerOutField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    created = serializers.DateTimeField()


class RequestInquiryCreateSerializer(StrictSerializer[Transfer]):
    read_only_from = RequestInquirySerializer

    amount = AmountField()
    counterparty_alias = PointerSerializer()
    description = description_field()


class RequestInquiryUpdateSerializer(StrictSerializer[StatusUpdate]):
    read_only_from = RequestInquirySerializer

    status = serializers.ChoiceField(choices=[(RequestStatus.REVOKED, "Revoked")])


@extend_schema_field(PointerSerializer)
class RequesterField(serializers.Field[RequestResponse, object, Pointer, RequestResponse]):
    """The requester of a payment request, as the payer sees them: their account's IBAN and name."""

    def __init__(self) -> None:
        super().__init__(source="*", read_only=True)

    def to_representation(self, instance: RequestResponse) -> Pointer:
        inquiry = instance.inquiry
        return {
            "type": CounterpartyType.IBAN,
            "value": inquiry.monetary_account.iban,
            "name": display_name(inquiry.created_by),
        }


class RequestResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    monetary_account_id = serializers.IntegerField()
    amount = AmountOutField(source="inquiry.amount")
    counterparty_alias = RequesterField()
    description = serializers.CharField(source="inquiry.description")
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    created = serializers.DateTimeField()


# --- Notification filters (callbacks) -------------------------------------------------------


class NotificationFilterCreate(TypedDict):
    category: str
    notification_target: str


class NotificationFilterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.ChoiceField(choices=NotificationCategory.choices)
    notification_target = serializers.CharField()
    created = serializers.DateTimeField()


class NotificationFilterCreateSerializer(StrictSerializer[NotificationFilterCreate]):
    read_only_from = NotificationFilterSerializer

    category = serializers.ChoiceField(
        choices=NotificationCategory.choices,
        help_text="PAYMENT needs payments:read; DRAFT_PAYMENT draft_payments:read; REQUEST "
        "request_inquiries:read or request_responses:read; CARD any cards:* scope; CONNECTION any token.",
    )
    notification_target = serializers.CharField(
        max_length=NOTIFICATION_TARGET_MAX,
        help_text="An https URL (http only to 127.0.0.1 or localhost with a port, outside production).",
    )
