"""The floors that the suite measures the bank against, on the same machine in the same run:
a plain Django JSON view (no database), a plain DRF list view without authentication over the same
payment rows, and a bare locked transfer (two row locks, two balance updates, nothing else)."""

import time
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
    """Adds X-Queries: how many SQL statements the request ran; and for a request that locked account
    rows, X-Locked-Statements (the statements from the first that locked one, included, to the
    commit) and X-Lock-Held-Us (microseconds from that statement's return to the commit's)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = [0]
        locked: list[int] = []  # the statement count when the first lock was granted
        times: list[float] = []  # when it was granted, when the commit returned

        def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            count[0] += 1
            result = execute(sql, params, many, context)
            if not locked and _locks_an_account(sql):
                locked.append(count[0])
                times.append(time.perf_counter())
                transaction.on_commit(lambda: times.append(time.perf_counter()))
            return result

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Queries"] = str(count[0])
        if len(times) == 2:
            response["X-Locked-Statements"] = str(count[0] - locked[0] + 1)
            response["X-Lock-Held-Us"] = str(round((times[1] - times[0]) * 1e6))
        return response


def _locks_an_account(sql: str) -> bool:
    table = f'"{MonetaryAccount._meta.db_table}"'
    return f"UPDATE {table}" in sql or (" FOR UPDATE" in sql and f"FROM {table}" in sql)
