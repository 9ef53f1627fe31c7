"""Filters for the lists a budgeting app needs (django-filter). No regex lookups are exposed."""

from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import Model, QuerySet
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request
from rest_framework.views import APIView

from bank.core.errors import ErrorCode
from bank.models import Card, CardStatus, DraftPayment, DraftStatus, MonetaryAccount, Payment, RequestStatus


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time with any offset Python accepts, compared in UTC: the database accepts only
    offsets up to ±15:59, and a time that cannot be expressed in UTC is bad input, not a crash."""

    def clean(self, value: str | None) -> datetime | None:
        cleaned = super().clean(value)
        try:
            return cleaned.astimezone(UTC) if cleaned is not None else None
        except OverflowError as exc:
            raise forms.ValidationError("This time is out of range.", code=ErrorCode.INVALID) from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class MonetaryAccountFilter(django_filters.FilterSet):
    class Meta:
        model = MonetaryAccount
        fields = ["type", "status"]


class PaymentFilter(django_filters.FilterSet):
    created_after = UtcIsoDateTimeFilter(
        field_name="created", lookup_expr="gte", label="Payments at or after this time (ISO 8601)."
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created", lookup_expr="lt", label="Payments before this time (ISO 8601)."
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label="Signed amount at least this (money out is negative)."
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label="Signed amount at most this (money out is negative)."
    )
    direction = django_filters.ChoiceFilter(
        choices=[("IN", "Money in"), ("OUT", "Money out")], method="filter_direction", label="IN or OUT."
    )

    class Meta:
        model = Payment
        fields: list[str] = []

    def filter_direction(self, queryset: QuerySet[Payment], name: str, value: str) -> QuerySet[Payment]:
        return queryset.filter(amount__gt=0) if value == "IN" else queryset.filter(amount__lt=0)


class DraftPaymentFilter(django_filters.FilterSet):
    # The status as shown: a pending draft past its expiry is EXPIRED (see selectors.drafts_with_status).
    status = django_filters.ChoiceFilter(choices=DraftStatus.choices, field_name="shown_status")

    class Meta:
        model = DraftPayment
        fields: list[str] = []


class CardFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CardStatus.choices)

    class Meta:
        model = Card
        fields = ["status", "type"]


class RequestStatusFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which builds and validates its FilterSet (a deep copy of every
    filter and a form) only when the request names one of its filters: a plain list costs nothing."""

    def filter_queryset[M: Model](self, request: Request, queryset: QuerySet[M], view: APIView) -> QuerySet[M]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(name in request.query_params for name in filterset_class.base_filters):
            return queryset
        filtered: QuerySet[M] = super().filter_queryset(request, queryset, view)
        return filtered
