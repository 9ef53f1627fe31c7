"""Domain errors: every refusal has a stable machine code, a clear message and an HTTP status.

Services raise these and change nothing; the API's exception handler turns them into problem details
and the customer's pages into messages. Every code a client can meet is a member of `ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    """The stable `code` of every problem the bank answers with, in pages and the API."""

    # Shape of the request
    INVALID = "invalid"
    REQUIRED = "required"
    UNKNOWN_FIELD = "unknown_field"
    READ_ONLY_FIELD = "read_only_field"
    FIELD_NOT_ALLOWED = "field_not_allowed"
    EMPTY_UPDATE = "empty_update"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_STATUS = "invalid_status"
    # Amounts and counterparties
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    DESCRIPTION_TOO_LONG = "description_too_long"
    INVALID_DESCRIPTION = "invalid_description"
    INVALID_IBAN = "invalid_iban"
    NAME_REQUIRED = "name_required"
    EMAIL_REQUIRED = "email_required"
    UNKNOWN_EMAIL = "unknown_email"
    EMAIL_TAKEN = "email_taken"
    INVALID_COUNTERPARTY_TYPE = "invalid_counterparty_type"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    # Accounts
    ACCOUNT_NOT_FOUND = "account_not_found"
    ACCOUNT_NOT_ACTIVE = "account_not_active"
    ACCOUNT_NOT_SHARED = "account_not_shared"
    NOT_YOUR_ACCOUNT = "not_your_account"
    SAME_ACCOUNT = "same_account"
    INVALID_ACCOUNT_TYPE = "invalid_account_type"
    SAVINGS_GOAL_NOT_ALLOWED = "savings_goal_not_allowed"
    SAVINGS_ONLY_TO_OWN_ACCOUNTS = "savings_only_to_own_accounts"
    CO_OWNER_NOT_ALLOWED = "co_owner_not_allowed"
    CO_OWNER_IS_OWNER = "co_owner_is_owner"
    ALREADY_ANSWERED = "already_answered"
    IBAN_ALLOCATION_FAILED = "iban_allocation_failed"
    INVALID_DEPOSIT = "invalid_deposit"
    # Payments and drafts
    USE_DRAFT_PAYMENT = "use_draft_payment"
    INVALID_ENTRIES = "invalid_entries"
    REASON_TOO_LONG = "reason_too_long"
    REASON_REQUIRED = "reason_required"
    DRAFT_ACCEPTED = "draft_accepted"
    DRAFT_REJECTED = "draft_rejected"
    DRAFT_CANCELLED = "draft_cancelled"
    DRAFT_EXPIRED = "draft_expired"
    CUSTOMER_ONLY = "customer_only"
    # Payment requests
    REQUEST_TO_SELF = "request_to_self"
    REQUEST_ACCEPTED = "request_accepted"
    REQUEST_REJECTED = "request_rejected"
    REQUEST_REVOKED = "request_revoked"
    # Cards
    INVALID_CARD_TYPE = "invalid_card_type"
    INVALID_NAME_ON_CARD = "invalid_name_on_card"
    INVALID_LIMIT = "invalid_limit"
    INVALID_CARD_TRANSITION = "invalid_card_transition"
    CARD_NOT_CHANGEABLE = "card_not_changeable"
    # Step-up (confirming a payment with the password)
    STEP_UP_FAILED = "step_up_failed"
    STEP_UP_LOCKED = "step_up_locked"
    PASSKEY_REQUIRED = "passkey_required"
    PASSKEY_REFUSED = "passkey_refused"
    # Connections and applications
    INVALID_SCOPE = "invalid_scope"
    INVALID_ACCOUNTS = "invalid_accounts"
    CONNECTION_ENDED = "connection_ended"
    INVALID_APPLICATION = "invalid_application"
    NAME_RESERVED = "name_reserved"
    FOUR_EYES = "four_eyes"
    ALREADY_SUSPENDED = "already_suspended"
    NOT_SUSPENDED = "not_suspended"
    INVALID_LOGO = "invalid_logo"
    INVALID_JWKS = "invalid_jwks"
    INVALID_CLIENT_METADATA = "invalid_client_metadata"
    FAPI_REQUIRED = "fapi_required"
    INVALID_REQUEST_URI = "invalid_request_uri"
    INVALID_TARGET = "invalid_target"
    DUPLICATE_FILTER = "duplicate_filter"
    # Authentication, authorization and limits (the API's own refusals)
    INVALID_TOKEN = "invalid_token"  # noqa: S105  (an error code, not a credential)
    INSUFFICIENT_SCOPE = "insufficient_scope"
    INVALID_DPOP_PROOF = "invalid_dpop_proof"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PARSE_ERROR = "parse_error"
    REQUEST_TOO_LARGE = "request_too_large"
    THROTTLED = "throttled"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INVALID_STATE = "invalid_state"
    SERVICE_UNAVAILABLE = "service_unavailable"
    SERVER_ERROR = "server_error"


class DomainError(Exception):
    code: str = ErrorCode.INVALID
    status = 400
    title = "The request could not be carried out"

    def __init__(self, message: str, *, code: ErrorCode | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field  # the request field that caused it, dotted for nested ones


class ValidationFailed(DomainError):
    code = ErrorCode.INVALID
    status = 400
    title = "Invalid input"


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    status = 403
    title = "Not allowed"


class InvalidState(DomainError):
    """The object is not in a state that allows this act (a paid draft, a cancelled card)."""

    code = ErrorCode.INVALID_STATE
    status = 409
    title = "Conflict with the current state"


class InsufficientFunds(DomainError):
    code = ErrorCode.INSUFFICIENT_FUNDS
    status = 422
    title = "Insufficient funds"
