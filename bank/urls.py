"""The bank's own pages (`bank.views`). The API's URLs are in `bank.api.urls`."""

from django.urls import path

from .views import approvals, customer, passkeys, public

urlpatterns = [
    path("", customer.home, name="home"),
    path("healthz", public.healthz, name="healthz"),
    path("help/oauth/", public.help_oauth, name="help-oauth"),
    path("invitations/<int:pk>/", customer.invitation_answer, name="invitation-answer"),
    path("profile/", customer.profile, name="profile"),
    path("profile/settings/", customer.profile_settings, name="settings"),
    path("profile/settings/security/", customer.security, name="security"),
    path("profile/settings/security/passkeys/", passkeys.passkeys, name="passkeys"),
    path("profile/settings/security/passkeys/add/", passkeys.passkey_add_view, name="passkey-add"),
    path("profile/settings/security/passkeys/<int:pk>/rename/", passkeys.passkey_rename_view, name="passkey-rename"),
    path("profile/settings/security/passkeys/<int:pk>/remove/", passkeys.passkey_remove_view, name="passkey-remove"),
    path("accounts/passkey/", passkeys.passkey_login, name="passkey-login"),
    path("draft-payments/", approvals.draft_payments, name="draft-payments"),
    path("draft-payments/<int:pk>/approve/", approvals.draft_payment_approve, name="draft-payment-approve"),
    path("draft-payments/<int:pk>/reject/", approvals.draft_payment_reject_view, name="draft-payment-reject"),
    path("payment-requests/", approvals.payment_requests, name="payment-requests"),
    path("payment-requests/<int:pk>/pay/", approvals.payment_request_pay, name="payment-request-pay"),
    path("payment-requests/<int:pk>/reject/", approvals.payment_request_reject, name="payment-request-reject"),
]
