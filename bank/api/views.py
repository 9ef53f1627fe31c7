"""The REST API's resources. Thin viewsets: parse with an input serializer, call one selector or
service, render with an output serializer.

Every action declares its scopes in `required_scopes_by_action` (see permissions.py). Every queryset
comes from `connections.selectors`, which starts from the token's connection: another customer's
object, or anything under an account that was not shared, is a 404.
"""

from contextlib import ExitStack

from django.contrib.auth.models import User
from django.db import models
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bank.core.errors import ErrorCode, PermissionDenied, ValidationFailed
from bank.core.replica import replica_reads
from bank.models import Card, DraftPayment, DraftStatus, MonetaryAccount, Payment, RequestInquiry, RequestResponse
from bank.services.cards import card_order, card_update
from bank.services.drafts import draft_payment_cancel, draft_payment_create
from bank.services.payment_requests import request_inquiry_create, request_inquiry_revoke
from bank.services.payments import payment_create
from connections import scopes
from connections.models import Connection, NotificationFilter
from connections.selectors import (
    accounts_visible,
    cards_visible,
    drafts_visible,
    is_account_shared,
    notification_filters_of,
    payments_visible,
    request_inquiries_visible,
    request_responses_visible,
    shared_account,
    shared_account_ids,
)
from connections.services.callbacks import notification_filter_create, notification_filter_delete
from connections.services.connections import connection_account_open, connection_record_read

from . import examples, filters
from . import serializers as s
from .authentication import request_connection, request_customer
from .callbacks import connection_representation
from .idempotency import idempotent
from .pagination import NewestFirstCursorPagination
from .permissions import Alternatives, HasActionScopes, InsufficientScope, token_has

ANY_CARD_SCOPE: Alternatives = [[name] for name in scopes.CARD_SCOPES]


class ConnectedViewSet[M: models.Model](viewsets.GenericViewSet[M]):
    """What every resource shares: the scope gate, the customer, the connection's accounts."""

    permission_classes = [HasActionScopes]
    pagination_class = NewestFirstCursorPagination
    filter_backends = [filters.FilterBackend]
    metadata_class = None  # no OPTIONS: it would be an undeclared action
    required_scopes_by_action: dict[str, Alternatives] = {}
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[M]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no token, no customer
            return super().get_queryset()
        return self.visible_queryset()

    def visible_queryset(self) -> QuerySet[M]:
        """What this app may see of the resource, for this customer (a `connections.selectors` call)."""
        raise NotImplementedError

    @property
    def connection(self) -> Connection:
        return request_connection(self.request)

    @property
    def customer(self) -> User:
        return request_customer(self.request)

    def shared_account(self, pk: int, *, field: str) -> MonetaryAccount:
        """An account named in a request body; one the app cannot see does not exist for it."""
        account = shared_account(connection=self.connection, account_id=pk)
        if account is None:
            raise ValidationFailed(
                "No such account is shared with this app.", code=ErrorCode.ACCOUNT_NOT_FOUND, field=field
            )
        return account

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        """The token, the scopes and the rate limit are checked on the primary; then a list or a
        detail reads from the replica, if there is one (bank.core.replica)."""
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            self._replica = ExitStack()
            self._replica.enter_context(replica_reads(customer_id=self.customer.pk))

    def finalize_response(self, request: Request, response: Response, *args: object, **kwargs: object) -> Response:
        replica: ExitStack | None = getattr(self, "_replica", None)
        if replica is not None:
            replica.close()
        # What the app read shows on the customer's connection page (recorded at most once a minute).
        if request.method == "GET" and status.is_success(response.status_code) and request.auth is not None:
            account_pk = kwargs.get("account_pk")
            connection_record_read(
                connection=self.connection,
                resource=self.basename or "",
                account_id=int(str(account_pk)) if account_pk else None,
            )
        final: Response = super().finalize_response(request, response, *args, **kwargs)
        return final

    def render(self, instance: M, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=status_code)


class AccountChildViewSet[M: models.Model](mixins.RetrieveModelMixin, ConnectedViewSet[M]):
    """A resource under `/monetary-accounts/{account_pk}/`: that account must be shared."""

    @property
    def account_id(self) -> int:
        return int(self.kwargs["account_pk"])

    def get_account(self) -> MonetaryAccount:
        account = shared_account(connection=self.connection, account_id=self.account_id)
        if account is None:
            raise Http404
        return account

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        # The list query already holds the account check; only an empty page needs to tell
        # "no rows yet" from "no such account for this app".
        if not page and not is_account_shared(connection=self.connection, account_id=self.account_id):
            raise Http404
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- Monetary accounts ----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the accounts shared with the app"),
    retrieve=extend_schema(summary="One shared account"),
)
class MonetaryAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ConnectedViewSet[MonetaryAccount]):
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
        return accounts_visible(connection=self.connection)

    @extend_schema(
        summary="Open a bank, savings or joint account",
        request=s.MonetaryAccountCreateSerializer,
        responses={201: s.MonetaryAccountSerializer},
        examples=examples.ACCOUNT_CREATE,
    )
    @idempotent
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = s.MonetaryAccountCreateSerializer.parse(request.data)
        account = connection_account_open(
            connection=self.connection,
            type=data["type"],
            description=data["description"],
            savings_goal=data.get("savings_goal"),
            co_owner_email=data["co_owner"]["value"] if "co_owner" in data else None,
        )
        return self.render(self.get_queryset().get(pk=account.pk), status_code=status.HTTP_201_CREATED)


# --- Payments -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The account's payments, newest first"),
    retrieve=extend_schema(summary="One payment"),
)
class PaymentViewSet(AccountChildViewSet[Payment]):
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
        return payments_visible(connection=self.connection, account_id=self.account_id)

    @extend_schema(
        summary="Move money to another of the customer's own accounts",
        description="With `payments:internal` the counterparty must be an account of the same customer that "
        "is shared with the app. Anything else is 403 `use_draft_payment`: prepare a draft payment instead.",
        request=s.PaymentCreateSerializer,
        responses={201: s.PaymentSerializer},
        examples=examples.PAYMENT_CREATE,
    )
    @idempotent
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = s.PaymentCreateSerializer.parse(request.data)
        payment = payment_create(
            customer=self.customer,
            source=self.get_account(),
            amount=data["amount"],
            counterparty=data["counterparty_alias"],
            description=data["description"],
            own_accounts_only=True,
            shared_account_ids=shared_account_ids(connection=self.connection),
            actor=self.customer,
            connection=self.connection,
        )
        return self.render(payment, status_code=status.HTTP_201_CREATED)


# --- Draft payments -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Draft payments this app prepared on the account"),
    retrieve=extend_schema(summary="One draft payment"),
)
class DraftPaymentViewSet(AccountChildViewSet[DraftPayment]):
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
        return drafts_visible(connection=self.connection, account_id=self.account_id)

    @extend_schema(
        summary="Prepare payments for the customer to approve",
        description="Nothing is paid until the customer approves the draft in the bank's own pages "
        "(with their password). A draft that is not answered in 7 days expires.",
        request=s.DraftPaymentCreateSerializer,
        responses={201: s.DraftPaymentSerializer},
        examples=examples.DRAFT_CREATE,
    )
    @idempotent
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = s.DraftPaymentCreateSerializer.parse(request.data)
        draft = draft_payment_create(
            customer=self.customer,
            source=self.get_account(),
            entries=data["entries"],
            actor=self.customer,
            connection=self.connection,
        )
        return self.render(self.get_queryset().get(pk=draft.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a pending draft payment",
        description='Only `{"status": "CANCELLED"}`: accepting or rejecting is the customer\'s own act (403).',
        request=s.DraftPaymentUpdateSerializer,
        responses={200: s.DraftPaymentSerializer},
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        draft = self.get_object()
        data = s.DraftPaymentUpdateSerializer.parse(request.data)
        if data["status"] in (DraftStatus.ACCEPTED, DraftStatus.REJECTED):
            raise PermissionDenied(
                "Only the customer approves or rejects a draft payment, in the bank's own pages.",
                code=ErrorCode.CUSTOMER_ONLY,
                field="status",
            )
        if data["status"] != DraftStatus.CANCELLED:
            raise ValidationFailed(
                "An app can only cancel a draft payment.", code=ErrorCode.INVALID_STATUS, field="status"
            )
        draft_payment_cancel(
            draft_id=draft.pk,
            customer=self.customer,
            actor=self.customer,
            connection=self.connection,
            reason=data["reason"],
        )
        return self.render(self.get_queryset().get(pk=draft.pk))


# --- Cards ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The customer's cards on shared accounts"),
    retrieve=extend_schema(summary="One card"),
)
class CardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ConnectedViewSet[Card]):
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
        return cards_visible(connection=self.connection)

    @extend_schema(
        summary="Order a card",
        request=s.CardCreateSerializer,
        responses={201: s.CardSerializer},
        examples=examples.CARD_CREATE,
    )
    @idempotent
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = s.CardCreateSerializer.parse(request.data)
        card = card_order(
            customer=self.customer,
            type=data["type"],
            name_on_card=data["name_on_card"],
            primary_account=self.shared_account(data["primary_account_id"], field="primary_account_id"),
            daily_limit=data.get("limits"),
            actor=self.customer,
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
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        card = self.get_object()
        sent = set(request.data) if isinstance(request.data, dict) else set()
        if "secondary_account_id" in sent:
            raise PermissionDenied(
                "No app may change a card's secondary account; the customer does that in the bank.",
                code=ErrorCode.FIELD_NOT_ALLOWED,
                field="secondary_account_id",
            )
        if sent & {"status", "limits"} and not token_has(request, "cards:manage"):
            raise InsufficientScope([["cards:manage"]])
        data = s.CardUpdateSerializer.parse(request.data)
        if not data:
            raise ValidationFailed("Nothing to change.", code=ErrorCode.EMPTY_UPDATE)
        card = card_update(
            card_id=card.pk,
            customer=self.customer,
            actor=self.customer,
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
class RequestInquiryViewSet(AccountChildViewSet[RequestInquiry]):
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
        return request_inquiries_visible(connection=self.connection, account_id=self.account_id)

    @extend_schema(
        summary="Ask someone to pay the customer",
        request=s.RequestInquiryCreateSerializer,
        responses={201: s.RequestInquirySerializer},
        examples=examples.REQUEST_INQUIRY_CREATE,
    )
    @idempotent
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = s.RequestInquiryCreateSerializer.parse(request.data)
        inquiry = request_inquiry_create(
            customer=self.customer,
            account=self.get_account(),
            amount=data["amount"],
            counterparty=data["counterparty_alias"],
            description=data["description"],
            actor=self.customer,
            connection=self.connection,
        )
        return self.render(inquiry, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a pending payment request",
        request=s.RequestInquiryUpdateSerializer,
        responses={200: s.RequestInquirySerializer},
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        inquiry = self.get_object()
        s.RequestInquiryUpdateSerializer.parse(request.data)
        inquiry = request_inquiry_revoke(
            inquiry_id=inquiry.pk, customer=self.customer, actor=self.customer, connection=self.connection
        )
        return self.render(inquiry)


@extend_schema_view(
    list=extend_schema(summary="Payment requests the customer received on the account"),
    retrieve=extend_schema(summary="One payment request received"),
)
class RequestResponseViewSet(AccountChildViewSet[RequestResponse]):
    """Read only: only the customer answers a payment request, in the bank's own pages."""

    queryset = RequestResponse.objects.none()
    serializer_class = s.RequestResponseSerializer
    filterset_class = filters.RequestStatusFilter
    required_scopes_by_action = {
        "list": [["request_responses:read"]],
        "retrieve": [["request_responses:read"]],
    }

    def visible_queryset(self) -> QuerySet[RequestResponse]:
        return request_responses_visible(connection=self.connection, account_id=self.account_id)


# --- Who am I -------------------------------------------------------------------------------


class MeView(APIView):
    """Who the token belongs to, and what the connection allows. Any valid token."""

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
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return Response(connection_representation(request_connection(request)))


# --- Callbacks ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="This connection's notification filters"),
    retrieve=extend_schema(summary="One notification filter"),
    destroy=extend_schema(summary="Stop a callback"),
)
class NotificationFilterViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ConnectedViewSet[NotificationFilter]
):
    """Callbacks: the app is called at `notification_target` when something of `category`
    changes for this customer, instead of polling. Each call is a signed POST (Standard Webhooks:
    `webhook-id`, `webhook-timestamp`, `webhook-signature` with the app's signing secret from
    /developers/) of `{"id", "type", "created", "data"}`, `data` being the object as this API returns
    it. Any valid token manages its own connection's filters; each category needs its scope."""

    queryset = NotificationFilter.objects.none()
    serializer_class = s.NotificationFilterSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[type] = []

    def visible_queryset(self) -> QuerySet[NotificationFilter]:
        return notification_filters_of(connection=self.connection)

    @extend_schema(
        summary="Ask to be called about changes",
        request=s.NotificationFilterCreateSerializer,
        responses={201: s.NotificationFilterSerializer},
    )
    @idempotent
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = s.NotificationFilterCreateSerializer.parse(request.data)
        created = notification_filter_create(
            connection=self.connection, category=data["category"], target=data["notification_target"]
        )
        return self.render(created, status_code=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: NotificationFilter) -> None:
        notification_filter_delete(connection=self.connection, filter_id=instance.pk)
