"""The floors, each over the same rows as the bank's endpoint it is compared with:

- `/drf/accounts/<customer>/` and `/drf/payments/<account>/`: a DRF list, no authentication;
- `/toolkit/accounts/` and `/toolkit/payments/<account>/`: the toolkit's naive protection, DRF with
  `OAuth2Authentication` and `TokenHasScope`, rows of the token's customer.

Same serializers and the same cursor pagination as the bank's API, so that only what surrounds the
rows differs."""

from django.db.models import Prefetch, QuerySet
from django.urls import path
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework.generics import ListAPIView

from bank.api.pagination import NewestFirstCursorPagination
from bank.api.serializers import MonetaryAccountSerializer, PaymentSerializer
from bank.models import CoOwner, MonetaryAccount, Payment


def _accounts(owner_id: int) -> QuerySet[MonetaryAccount]:
    co_owners = Prefetch("co_owners", queryset=CoOwner.objects.select_related("user"))
    return MonetaryAccount.objects.filter(owner_id=owner_id).prefetch_related(co_owners)


class DrfAccounts(ListAPIView[MonetaryAccount]):
    serializer_class = MonetaryAccountSerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self) -> QuerySet[MonetaryAccount]:
        return _accounts(int(self.kwargs["customer"]))


class DrfPayments(ListAPIView[Payment]):
    serializer_class = PaymentSerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self) -> QuerySet[Payment]:
        return Payment.objects.filter(monetary_account_id=int(self.kwargs["account"]))


class ToolkitAccounts(DrfAccounts):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["accounts:read"]

    def get_queryset(self) -> QuerySet[MonetaryAccount]:
        return _accounts(int(self.request.user.pk or 0))


class ToolkitPayments(DrfPayments):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["payments:read"]

    def get_queryset(self) -> QuerySet[Payment]:
        account, owner = int(self.kwargs["account"]), int(self.request.user.pk or 0)
        return Payment.objects.filter(monetary_account_id=account, monetary_account__owner_id=owner)


urlpatterns = [
    path("drf/accounts/<int:customer>/", DrfAccounts.as_view()),
    path("drf/payments/<int:account>/", DrfPayments.as_view()),
    path("toolkit/accounts/", ToolkitAccounts.as_view()),
    path("toolkit/payments/<int:account>/", ToolkitPayments.as_view()),
    path("healthz", DrfAccounts.as_view(), kwargs={"customer": 0}),
]
