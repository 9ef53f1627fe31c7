"""The REST API (SPEC §5). Thin viewsets: parse with an input serializer, call one service, render
with an output serializer.

Every action declares its scopes in `required_scopes_by_action` (see permissions.py). Every queryset
starts from the token's customer and the accounts shared with the connection, so another
customer's object, or anything under an account that was not shared, is a 404.
"""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bank.errors import PermissionDenied, ValidationFailed
from bank.models import (
    Card,
    CoOwner,
    DraftPayment,
    DraftPaymentEntry,
    DraftStatus,
    MonetaryAccount,
    Payment,
    RequestInquiry,
    RequestResponse,
)
from bank.selectors import display_name, drafts_with_status, shared_accounts
from bank.services.accounts import account_open
from bank.services.cards import card_order, card_update
from bank.services.drafts import draft_payment_cancel, draft_payment_create
from bank.services.payment_requests import request_inquiry_create, request_inquiry_revoke
from bank.services.payments import payment_create
from connections import scopes
from connections.authentication import request_connection
from connections.models import Connection
from connections.services import connection_record_read

from . import filters
from . import serializers as s
from .idempotency import idempotent
from .pagination import NewestFirstCursorPagination
from .permissions import Alternatives, HasActionScopes, InsufficientScope, token_has

ANY_CARD_SCOPE: Alternatives = [[name] for name in scopes.CARD_SCOPES]

AMOUNT_EXAMPLE = {"value": "12.50", "currency": "EUR"}


class ConnectedViewSet(viewsets.GenericViewSet):
    """What every resource shares: the scope gate, the customer, the connection's accounts."""

    permission_classes = [HasActionScopes]
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    metadata_class = None  # no OPTIONS: it would be an undeclared action
    required_scopes_by_action: dict[str, Alternatives] = {}
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no token, no customer
            return super().get_queryset()
        return self.visible_queryset()

    def visible_queryset(self) -> QuerySet[Any]:
        """What this app may see of the resource, for this customer."""
        raise NotImplementedError

    @property
    def connection(self) -> Connection:
        return request_connection(self.request)

    def shared_accounts(self) -> QuerySet[MonetaryAccount]:
        return shared_accounts(user=self.request.user, connection=self.connection)

    def shared_account(self, pk: int, *, field: str) -> MonetaryAccount:
        """An account named in a request body; one the app cannot see does not exist for it."""
        account = self.shared_accounts().filter(pk=pk).first()
        if account is None:
            raise ValidationFailed("No such account is shared with this app.", code="account_not_found", field=field)
        return account

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        # What the app read shows on the customer's connection page (recorded at most once a minute).
        if request.method == "GET" and status.is_success(response.status_code) and request.auth is not None:
            account_pk = kwargs.get("account_pk")
            connection_record_read(
                connection=self.connection, resource=self.basename, account_id=int(account_pk) if account_pk else None
            )
        return super().finalize_response(request, response, *args, **kwargs)

    def parse(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def render(self, instance: Any, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=status_code)


class AccountChildViewSet(mixins.RetrieveModelMixin, ConnectedViewSet):
    """A resource under `/monetary-accounts/{account_pk}/`: that account must be shared."""

    def under_account(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(
            monetary_account_id=self.kwargs["account_pk"], monetary_account__in=self.shared_accounts().values("pk")
        )

    def get_account(self) -> MonetaryAccount:
        account = self.shared_accounts().filter(pk=self.kwargs["account_pk"]).first()
        if account is None:
            raise Http404
        return account

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        # The list query already holds the account check; only an empty page needs to tell
        # "no rows yet" from "no such account for this app".
        if not page and not self.shared_accounts().filter(pk=self.kwargs["account_pk"]).exists():
            raise Http404
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- Monetary accounts ----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the accounts shared with the app"),
    retrieve=extend_schema(summary="One shared account"),
)
class MonetaryAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ConnectedViewSet):
    """The customer's monetary accounts that they shared with the app. An account that the app opens is
    shared with it."""

    queryset = MonetaryAccount.objects.none()
    serializer_class = s.MonetaryAccountSerializer
    filterset_class = filters.MonetaryAccountFilter
    required_scopes_by_action = {
        "list": [["accounts:read"]],
        "retrieve": [["accounts:read"]],
        "create": [["accounts:create"]],
    }

    def visible_queryset(self) -> QuerySet[MonetaryAccount]:
        return self.shared_accounts().prefetch_related(
            Prefetch("co_owners", queryset=CoOwner.objects.select_related("user"))
        )

    @extend_schema(
        summary="Open a bank, savings or joint account",
        request=s.MonetaryAccountCreateSerializer,
        responses={201: s.MonetaryAccountSerializer},
        examples=[
            OpenApiExample(
                "Savings",
                request_only=True,
                value={
                    "type": "SAVINGS",
                    "description": "Holiday",
                    "savings_goal": {"value": "1500.00", "currency": "EUR"},
                },
            ),
            OpenApiExample(
                "Joint",
                request_only=True,
                value={
                    "type": "JOINT",
                    "description": "Household",
                    "co_owner": {"type": "EMAIL", "value": "bob@example.com"},
                },
            ),
        ],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.parse(s.MonetaryAccountCreateSerializer)
        account = account_open(
            owner=request.user,
            type=data["type"],
            description=data["description"],
            savings_goal=data.get("savings_goal"),
            co_owner_email=data["co_owner"]["value"] if "co_owner" in data else None,
            actor=request.user,
            connection=self.connection,
        )
        return self.render(self.get_queryset().get(pk=account.pk), status_code=status.HTTP_201_CREATED)


# --- Payments -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The account's payments, newest first"),
    retrieve=extend_schema(summary="One payment"),
)
class PaymentViewSet(AccountChildViewSet):
    """Payments on one account: signed from its side (negative is money out), never edited or deleted.
    Listing needs `payments:read`; moving money between the customer's own accounts, `payments:internal`."""

    queryset = Payment.objects.none()
    serializer_class = s.PaymentSerializer
    filterset_class = filters.PaymentFilter
    required_scopes_by_action = {
        "list": [["payments:read"]],
        "retrieve": [["payments:read"]],
        "create": [["payments:internal"]],
    }

    def visible_queryset(self) -> QuerySet[Payment]:
        return self.under_account(Payment.objects.all())

    @extend_schema(
        summary="Move money to another of the customer's own accounts",
        description="With `payments:internal` the counterparty must be an account of the same customer that "
        "is shared with the app. Anything else is 403 `use_draft_payment`: prepare a draft payment instead.",
        request=s.PaymentCreateSerializer,
        responses={201: s.PaymentSerializer},
        examples=[
            OpenApiExample(
                "To savings",
                request_only=True,
                value={
                    "amount": AMOUNT_EXAMPLE,
                    "counterparty_alias": {"type": "IBAN", "value": "NL12BANK0123456789", "name": "Alice"},
                    "description": "Round-up",
                },
            ),
            OpenApiExample(
                "Transfer made",
                response_only=True,
                status_codes=["201"],
                value={
                    "id": 812,
                    "monetary_account_id": 1,
                    "amount": {"value": "-12.50", "currency": "EUR"},
                    "description": "Round-up",
                    "counterparty_alias": {"type": "IBAN", "value": "NL12BANK0123456789", "name": "Alice Jansen"},
                    "balance_after_mutation": {"value": "487.50", "currency": "EUR"},
                    "created": "2026-11-25T14:05:00+01:00",
                },
            ),
            OpenApiExample(
                "Someone else's account",
                response_only=True,
                status_codes=["403"],
                value={
                    "type": "https://bank.example/problems/use_draft_payment",
                    "title": "Not allowed",
                    "status": 403,
                    "detail": "With payments:internal an app can move money only between the customer's own "
                    "accounts. To pay anyone else, create a draft payment for the customer to approve.",
                    "code": "use_draft_payment",
                },
            ),
        ],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.parse(s.PaymentCreateSerializer)
        payment = payment_create(
            customer=request.user,
            source=self.get_account(),
            amount=data["amount"],
            counterparty=data["counterparty_alias"],
            description=data["description"],
            own_accounts_only=True,
            actor=request.user,
            connection=self.connection,
        )
        return self.render(payment, status_code=status.HTTP_201_CREATED)


# --- Draft payments -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Draft payments this app prepared on the account"),
    retrieve=extend_schema(summary="One draft payment"),
)
class DraftPaymentViewSet(AccountChildViewSet):
    """Payments that the app prepares and only the customer approves, in the bank's own pages. An app
    sees only the drafts it prepared itself."""

    queryset = DraftPayment.objects.none()
    serializer_class = s.DraftPaymentSerializer
    filterset_class = filters.DraftPaymentFilter
    required_scopes_by_action = {
        "list": [["draft_payments:read"]],
        "retrieve": [["draft_payments:read"]],
        "create": [["draft_payments:write"]],
        "partial_update": [["draft_payments:write"]],
    }

    def visible_queryset(self) -> QuerySet[DraftPayment]:
        # "See the draft payments that it prepared": only this application's drafts.
        return drafts_with_status(
            self.under_account(DraftPayment.objects.filter(application_id=self.connection.application_id))
        ).prefetch_related(Prefetch("entries", queryset=DraftPaymentEntry.objects.order_by("id")))

    @extend_schema(
        summary="Prepare payments for the customer to approve",
        description="Nothing is paid until the customer approves the draft in the bank's own pages "
        "(with their password). A draft that is not answered in 7 days expires.",
        request=s.DraftPaymentCreateSerializer,
        responses={201: s.DraftPaymentSerializer},
        examples=[
            OpenApiExample(
                "Rent",
                request_only=True,
                value={
                    "entries": [
                        {
                            "amount": {"value": "950.00", "currency": "EUR"},
                            "counterparty_alias": {
                                "type": "IBAN",
                                "value": "DE89370400440532013000",
                                "name": "Landlord",
                            },
                            "description": "Rent December",
                        }
                    ]
                },
            )
        ],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.parse(s.DraftPaymentCreateSerializer)
        draft = draft_payment_create(
            customer=request.user,
            source=self.get_account(),
            entries=data["entries"],
            actor=request.user,
            connection=self.connection,
        )
        return self.render(self.get_queryset().get(pk=draft.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a pending draft payment",
        description='Only `{"status": "CANCELLED"}`: accepting or rejecting is the customer\'s own act (403).',
        request=s.DraftPaymentUpdateSerializer,
        responses={200: s.DraftPaymentSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        draft = self.get_object()
        data = self.parse(s.DraftPaymentUpdateSerializer)
        if data["status"] in (DraftStatus.ACCEPTED, DraftStatus.REJECTED):
            raise PermissionDenied(
                "Only the customer approves or rejects a draft payment, in the bank's own pages.",
                code="customer_only",
                field="status",
            )
        if data["status"] != DraftStatus.CANCELLED:
            raise ValidationFailed("An app can only cancel a draft payment.", code="invalid_status", field="status")
        draft_payment_cancel(
            draft_id=draft.pk,
            customer=request.user,
            actor=request.user,
            connection=self.connection,
            reason=data["reason"],
        )
        return self.render(self.get_queryset().get(pk=draft.pk))


# --- Cards ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The customer's cards on shared accounts"),
    retrieve=extend_schema(summary="One card"),
)
class CardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ConnectedViewSet):
    """The customer's cards whose primary account is shared with the app. Reading needs any `cards:*` scope.
    Only the last four digits of a card number ever leave the bank."""

    queryset = Card.objects.none()
    serializer_class = s.CardSerializer
    filterset_class = filters.CardFilter
    required_scopes_by_action = {
        "list": ANY_CARD_SCOPE,
        "retrieve": ANY_CARD_SCOPE,
        "create": [["cards:order"]],
        # Which fields each scope may change is checked in partial_update.
        "partial_update": [["cards:link"], ["cards:manage"]],
    }

    def visible_queryset(self) -> QuerySet[Card]:
        return Card.objects.filter(
            owner_id=self.request.user.pk, primary_account__in=self.shared_accounts().values("pk")
        )

    @extend_schema(
        summary="Order a card",
        request=s.CardCreateSerializer,
        responses={201: s.CardSerializer},
        examples=[
            OpenApiExample(
                "Virtual card",
                request_only=True,
                value={"type": "VIRTUAL", "name_on_card": "Alice Example", "primary_account_id": 1},
            )
        ],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.parse(s.CardCreateSerializer)
        card = card_order(
            customer=request.user,
            type=data["type"],
            name_on_card=data["name_on_card"],
            primary_account=self.shared_account(data["primary_account_id"], field="primary_account_id"),
            daily_limit=data.get("limits"),
            actor=request.user,
            connection=self.connection,
        )
        return self.render(card, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Link a card to another account, or change its status or limit",
        description="`primary_account_id` needs `cards:link` or `cards:manage`; `status` and `limits` need "
        "`cards:manage`. `secondary_account_id` never changes through the API (403).",
        request=s.CardUpdateSerializer,
        responses={200: s.CardSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        card = self.get_object()
        sent = set(request.data) if isinstance(request.data, dict) else set()
        if "secondary_account_id" in sent:
            raise PermissionDenied(
                "No app may change a card's secondary account; the customer does that in the bank.",
                code="field_not_allowed",
                field="secondary_account_id",
            )
        if sent & {"status", "limits"} and not token_has(request, "cards:manage"):
            raise InsufficientScope([["cards:manage"]])
        data = self.parse(s.CardUpdateSerializer)
        if not data:
            raise ValidationFailed("Nothing to change.", code="empty_update")
        card = card_update(
            card_id=card.pk,
            customer=request.user,
            actor=request.user,
            connection=self.connection,
            status=data.get("status"),
            daily_limit=data.get("limits"),
            primary_account=(
                self.shared_account(data["primary_account_id"], field="primary_account_id")
                if "primary_account_id" in data
                else None
            ),
        )
        return self.render(card)


# --- Payment requests -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Payment requests the customer sent from the account"),
    retrieve=extend_schema(summary="One payment request sent"),
)
class RequestInquiryViewSet(AccountChildViewSet):
    """Payment requests the customer sent. When the payer is a customer of the bank, they answer it in
    their own pages."""

    queryset = RequestInquiry.objects.none()
    serializer_class = s.RequestInquirySerializer
    filterset_class = filters.RequestStatusFilter
    required_scopes_by_action = {
        "list": [["request_inquiries:read"]],
        "retrieve": [["request_inquiries:read"]],
        "create": [["request_inquiries:write"]],
        "partial_update": [["request_inquiries:write"]],
    }

    def visible_queryset(self) -> QuerySet[RequestInquiry]:
        return self.under_account(RequestInquiry.objects.all())

    @extend_schema(
        summary="Ask someone to pay the customer",
        request=s.RequestInquiryCreateSerializer,
        responses={201: s.RequestInquirySerializer},
        examples=[
            OpenApiExample(
                "Dinner",
                request_only=True,
                value={
                    "amount": {"value": "24.00", "currency": "EUR"},
                    "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com"},
                    "description": "Dinner on Friday",
                },
            )
        ],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.parse(s.RequestInquiryCreateSerializer)
        inquiry = request_inquiry_create(
            customer=request.user,
            account=self.get_account(),
            amount=data["amount"],
            counterparty=data["counterparty_alias"],
            description=data["description"],
            actor=request.user,
            connection=self.connection,
        )
        return self.render(inquiry, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a pending payment request",
        request=s.RequestInquiryUpdateSerializer,
        responses={200: s.RequestInquirySerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        inquiry = self.get_object()
        self.parse(s.RequestInquiryUpdateSerializer)
        inquiry = request_inquiry_revoke(
            inquiry_id=inquiry.pk, customer=request.user, actor=request.user, connection=self.connection
        )
        return self.render(inquiry)


@extend_schema_view(
    list=extend_schema(summary="Payment requests the customer received on the account"),
    retrieve=extend_schema(summary="One payment request received"),
)
class RequestResponseViewSet(AccountChildViewSet):
    """Read only: only the customer answers a payment request, in the bank's own pages."""

    queryset = RequestResponse.objects.none()
    serializer_class = s.RequestResponseSerializer
    filterset_class = filters.RequestStatusFilter
    required_scopes_by_action = {
        "list": [["request_responses:read"]],
        "retrieve": [["request_responses:read"]],
    }

    def visible_queryset(self) -> QuerySet[RequestResponse]:
        return self.under_account(
            RequestResponse.objects.select_related("inquiry__monetary_account", "inquiry__created_by")
        )


# --- Who am I -------------------------------------------------------------------------------


class MeView(APIView):
    """Who the token belongs to, and what the connection allows. Any valid token (SPEC §5)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="The customer and this connection",
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.IntegerField(),
                "display_name": serializers.CharField(),
                "scopes": serializers.ListField(child=serializers.CharField()),
                "account_ids": serializers.ListField(child=serializers.IntegerField()),
                "expires_at": serializers.DateTimeField(),
            },
        ),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connection = request_connection(request)
        return Response(
            {
                "id": request.user.pk,
                "display_name": display_name(request.user),
                "scopes": connection.scope_list,
                "account_ids": sorted(
                    shared_accounts(user=request.user, connection=connection).values_list("pk", flat=True)
                ),
                "expires_at": connection.expires_at,
            }
        )
