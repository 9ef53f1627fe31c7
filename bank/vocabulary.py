"""The bank's shared vocabularies, each defined once: who acts, what the audit log records, what a
callback says changed, and how long free text may be. Models, services, serializers and forms all
read them from here, so a typo cannot fork them. Add an audit action here (and its sentence) before
a service writes it."""

from django.db import models


class ActorType(models.TextChoices):
    """Who did something: the customer themself, the bank's staff, a connected app, or the bank's
    own machinery (a periodic job, a security reaction)."""

    CUSTOMER = "customer", "Customer"
    STAFF = "staff", "Staff"
    APP = "app", "Connected app"
    SYSTEM = "system", "System"


class AuditAction(models.TextChoices):
    """Every kind of event in the audit log. The label is what staff read in the admin."""

    # Authentication and step-up
    LOGIN = "auth.login", "Logged in"
    LOGIN_FAILED = "auth.login_failed", "Failed to log in"
    LOGOUT = "auth.logout", "Logged out"
    STEP_UP_FAILED = "auth.step_up_failed", "Gave a wrong password to confirm"
    PASSWORD_GUESSES_LOCKED = "auth.password_guesses_locked", "Ran out of password guesses"
    PASSWORD_CHANGED = "auth.password_changed", "Changed the password"
    PASSKEY_ADDED = "auth.passkey_added", "Added a passkey"
    PASSKEY_RENAMED = "auth.passkey_renamed", "Renamed a passkey"
    PASSKEY_REMOVED = "auth.passkey_removed", "Removed a passkey"
    PASSKEY_USED = "auth.passkey_used", "Confirmed with a passkey"
    PASSKEY_REFUSED = "auth.passkey_refused", "A passkey confirmation was refused"
    # Accounts and money
    ACCOUNT_OPENED = "account.opened", "Opened an account"
    ACCOUNT_DEPOSIT = "account.deposit", "Recorded a deposit"
    CO_OWNER_ACCEPTED = "account.co_owner_accepted", "Accepted a joint-account invitation"
    CO_OWNER_REJECTED = "account.co_owner_rejected", "Declined a joint-account invitation"
    PAYMENT_CREATED = "payment.created", "Made a payment"
    DRAFT_CREATED = "draft_payment.created", "Prepared a draft payment"
    DRAFT_ACCEPTED = "draft_payment.accepted", "Approved a draft payment"
    DRAFT_REJECTED = "draft_payment.rejected", "Rejected a draft payment"
    DRAFT_CANCELLED = "draft_payment.cancelled", "Cancelled a draft payment"
    CARD_ORDERED = "card.ordered", "Ordered a card"
    CARD_UPDATED = "card.updated", "Changed a card"
    REQUEST_INQUIRY_CREATED = "request_inquiry.created", "Sent a payment request"
    REQUEST_INQUIRY_REVOKED = "request_inquiry.revoked", "Withdrew a payment request"
    REQUEST_RESPONSE_ACCEPTED = "request_response.accepted", "Paid a payment request"
    REQUEST_RESPONSE_REJECTED = "request_response.rejected", "Rejected a payment request"
    # Connections and the authorization server
    CONNECTION_GRANTED = "connection.granted", "Connected an app"
    CONNECTION_ACCOUNTS_CHANGED = "connection.accounts_changed", "Changed the accounts an app sees"
    CONNECTION_REVOKED = "connection.revoked", "Ended a connection"
    CONNECTION_EXPIRED = "connection.expired", "A connection reached its end"
    NOTIFICATION_FILTER_CREATED = "notification_filter.created", "An app asked to be called about changes"
    NOTIFICATION_FILTER_DELETED = "notification_filter.deleted", "An app stopped a callback"
    NOTIFICATION_FILTER_DISABLED = "notification_filter.disabled", "The bank stopped a failing callback target"
    CALLBACK_REDELIVERED = "callback.redelivered", "Sent a callback again"
    APPLICATION_SIGNING_SECRET_ROTATED = "application.signing_secret_rotated", "Replaced a callback signing secret"
    LEDGER_CHECKED = "ledger.checked", "Checked the ledger"
    API_READ = "api.read", "An app read data"
    TOKEN_ISSUED = "oauth.token_issued", "An app was given access"
    TOKEN_REFRESHED = "oauth.token_refreshed", "An app renewed its access"
    TOKEN_REFUSED = "oauth.token_refused", "The token endpoint refused a request"
    CONSENT_DENIED = "oauth.consent_denied", "Denied an app access"
    OAUTH_REFUSED = "oauth.refused", "The bank refused an app's request (authorization, PAR or a DPoP proof)"
    # Developers' applications and the bank's policy for them
    APPLICATION_REGISTERED = "application.registered", "Registered an application"
    APPLICATION_UPDATED = "application.updated", "Changed an application"
    APPLICATION_SENT_TO_REVIEW = "application.sent_to_review", "An application went back to review after a change"
    APPLICATION_SECRET_ROTATED = "application.secret_rotated", "Replaced a client secret"
    APPLICATION_DELETED = "application.deleted", "Deleted an application"
    APPLICATION_SUSPENDED = "application.suspended", "Suspended an application"
    APPLICATION_UNSUSPENDED = "application.unsuspended", "Lifted an application's suspension"
    APPLICATION_POLICY_CHANGED = "application.policy_changed", "Changed an application's verification or scopes"
    APPLICATION_METADATA_CHANGED = "application.metadata_changed", "Changed an application's client metadata"
    SCOPE_REQUEST_CREATED = "scope_request.created", "Asked for scopes for an application"
    SCOPE_REQUEST_ENDORSED = "scope_request.endorsed", "Gave the first of two approvals for money-moving scopes"
    SCOPE_REQUEST_APPROVED = "scope_request.approved", "Approved a scope request"
    SCOPE_REQUEST_REJECTED = "scope_request.rejected", "Rejected a scope request"
    # Staff work on customers and the records
    CUSTOMER_CHANGED = "customer.changed", "Changed a customer's email or access"
    SANDBOX_CUSTOMER_CREATED = "customer.sandbox_created", "Created a test customer in the sandbox"
    AUDIT_EXPORTED = "audit.exported", "Exported audit events"


class NotificationCategory(models.TextChoices):
    """What an app can ask to be called about (SPEC §9), like bunq's notification filters."""

    PAYMENT = "PAYMENT", "Payments on the shared accounts"
    DRAFT_PAYMENT = "DRAFT_PAYMENT", "Status changes of the drafts this app prepared"
    REQUEST = "REQUEST", "Payment requests and responses on the shared accounts"
    CARD = "CARD", "The customer's cards"
    CONNECTION = "CONNECTION", "This connection: accounts changed, revoked or expired"


class EventType(models.TextChoices):
    """What changed, as a callback's `type` says it. Each belongs to one category."""

    PAYMENT_CREATED = "payment.created", "A payment was booked"
    DRAFT_PAYMENT_CREATED = "draft_payment.created", "A draft payment was prepared"
    DRAFT_PAYMENT_UPDATED = "draft_payment.updated", "A draft payment was approved, rejected, cancelled or expired"
    REQUEST_CREATED = "request.created", "A payment request was sent"
    REQUEST_UPDATED = "request.updated", "A payment request was paid, rejected or withdrawn"
    CARD_CREATED = "card.created", "A card was ordered"
    CARD_UPDATED = "card.updated", "A card was changed"
    CONNECTION_ACCOUNTS_CHANGED = "connection.accounts_changed", "The accounts shared with the app changed"
    CONNECTION_REVOKED = "connection.revoked", "The connection was revoked"
    CONNECTION_EXPIRED = "connection.expired", "The connection expired"

    @property
    def category(self) -> NotificationCategory:
        return NotificationCategory(EVENT_CATEGORY[self.value.partition(".")[0]])


EVENT_CATEGORY = {
    "payment": NotificationCategory.PAYMENT,
    "draft_payment": NotificationCategory.DRAFT_PAYMENT,
    "request": NotificationCategory.REQUEST,
    "card": NotificationCategory.CARD,
    "connection": NotificationCategory.CONNECTION,
}


# How long free text may be, wherever it is stored, checked or accepted.
ACCOUNT_DESCRIPTION_MAX = 100
PAYMENT_DESCRIPTION_MAX = 140  # payments, draft entries and payment requests (the API's "max 140")
COUNTERPARTY_NAME_MAX = 140
COUNTERPARTY_VALUE_MAX = 254  # an email address at its longest
REASON_MAX = 200  # why a draft was rejected or cancelled, why an app was suspended
NAME_ON_CARD_MAX = 26
DRAFT_ENTRIES_MAX = 25
APPLICATION_NAME_MAX = 100
NOTIFICATION_TARGET_MAX = 500
DEVELOPER_NAME_MAX = 140
