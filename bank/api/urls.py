"""/api/v1/: SPEC §5's resources. Nested resources hang under the account they belong to."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

ACCOUNT = r"monetary-accounts/(?P<account_pk>[0-9]+)"

router = SimpleRouter()
router.register("monetary-accounts", views.MonetaryAccountViewSet, basename="monetary-account")
router.register(f"{ACCOUNT}/payments", views.PaymentViewSet, basename="payment")
router.register(f"{ACCOUNT}/draft-payments", views.DraftPaymentViewSet, basename="draft-payment")
router.register(f"{ACCOUNT}/request-inquiries", views.RequestInquiryViewSet, basename="request-inquiry")
router.register(f"{ACCOUNT}/request-responses", views.RequestResponseViewSet, basename="request-response")
router.register("cards", views.CardViewSet, basename="card")
router.register("notification-filters", views.NotificationFilterViewSet, basename="notification-filter")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
