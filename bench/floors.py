"""The floors that the suite measures the bank against, on the same machine in the same run:
a plain Django JSON view (no database), a plain DRF list view without authentication over the same
payment rows, and a bare locked transfer (two row locks, two balance updates, nothing else)."""

from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from bank.api.pagination import NewestFirstCursorPagination
from bank.api.serializers import PaymentSerializer
from bank.models import MonetaryAccount, Payment


def plain_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"results": [], "next": None, "previous": None})


class PlainPaymentList(ListAPIView):
    """DRF with no authentication, no permission, no throttle: the cost of the framework alone."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    serializer_class = PaymentSerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self) -> Any:
        return Payment.objects.filter(monetary_account_id=self.kwargs["account_pk"])


@csrf_exempt
def bare_transfer(request: HttpRequest, source: int, target: int) -> HttpResponse:
    with transaction.atomic():
        list(MonetaryAccount.objects.select_for_update().filter(pk__in=[source, target]).order_by("pk"))
        MonetaryAccount.objects.filter(pk=source).update(balance=F("balance") - Decimal("0.01"))
        MonetaryAccount.objects.filter(pk=target).update(balance=F("balance") + Decimal("0.01"))
    return JsonResponse({"ok": True}, status=201)


class QueryCountMiddleware:
    """Adds X-Queries: how many SQL statements the request ran."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = [0]

        def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Queries"] = str(count[0])
        return response
