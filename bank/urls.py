from django.urls import path

from . import payment_pages, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("invitations/<int:pk>/", views.invitation_answer, name="invitation-answer"),
    path("profile/", views.profile, name="profile"),
    path("profile/settings/", views.profile_settings, name="settings"),
    path("profile/settings/security/", views.security, name="security"),
    path("help/oauth/", views.help_oauth, name="help-oauth"),
    path("draft-payments/", payment_pages.draft_payments, name="draft-payments"),
    path("draft-payments/<int:pk>/approve/", payment_pages.draft_payment_approve, name="draft-payment-approve"),
    path("draft-payments/<int:pk>/reject/", payment_pages.draft_payment_reject_view, name="draft-payment-reject"),
    path("payment-requests/", payment_pages.payment_requests, name="payment-requests"),
    path("payment-requests/<int:pk>/pay/", payment_pages.payment_request_pay, name="payment-request-pay"),
    path("payment-requests/<int:pk>/reject/", payment_pages.payment_request_reject, name="payment-request-reject"),
]
