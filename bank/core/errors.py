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
    SANDBOX_MONEY = "sandbox_money"
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
    NOT_AUTHENTICATED = "not_authenticated"
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


# What each code means and what to do about it: the page that each problem's `type` URI opens
# (/developers/problems/<code>/) and the list of all of them. tests/core check that every code has one.
EXPLANATIONS: dict[ErrorCode, str] = {
    ErrorCode.INVALID: "Some fields of the request are invalid. `errors` lists each one with its own code; fix "
    "those fields and send the request again.",
    ErrorCode.REQUIRED: "A required field is missing. The `errors` entry names it.",
    ErrorCode.UNKNOWN_FIELD: "The request has a field the operation does not know. The bank refuses it rather than "
    "ignore it, so that a misspelt field never goes unnoticed. Check the field names in the API reference.",
    ErrorCode.READ_ONLY_FIELD: "The request sets a field that only the bank sets (an id, a balance, a status it "
    "decides). Leave it out.",
    ErrorCode.FIELD_NOT_ALLOWED: "This field cannot be changed by an app in this operation; the customer changes it "
    "in the bank's own pages.",
    ErrorCode.EMPTY_UPDATE: "A PATCH that changes nothing. Send at least one field to change.",
    ErrorCode.INVALID_CURSOR: "The `cursor` query parameter is not one the API handed out. Follow the `next` and "
    "`previous` links exactly as given; do not build cursors yourself.",
    ErrorCode.INVALID_STATUS: "The `status` in the request is not one this operation accepts (an app may only "
    "cancel a draft payment, for example).",
    ErrorCode.AMOUNT_NOT_POSITIVE: "An amount must be more than zero, with at most two decimals, as a string: "
    '`{"value": "12.50", "currency": "EUR"}`.',
    ErrorCode.DESCRIPTION_TOO_LONG: "The description is longer than the bank keeps. Shorten it.",
    ErrorCode.INVALID_DESCRIPTION: "An account needs a description of 1 to 100 characters.",
    ErrorCode.INVALID_IBAN: "The IBAN is not valid: wrong length, country or check digits.",
    ErrorCode.NAME_REQUIRED: "Paying an IBAN needs the name of its holder in `counterparty_alias.name`.",
    ErrorCode.EMAIL_REQUIRED: "The other customer (a co-owner, for example) is named by an EMAIL pointer.",
    ErrorCode.UNKNOWN_EMAIL: "No customer of the bank has this email address.",
    ErrorCode.EMAIL_TAKEN: "Another customer already uses this email address.",
    ErrorCode.INVALID_COUNTERPARTY_TYPE: "The counterparty's `type` is not one this operation accepts (IBAN or "
    "EMAIL, as the operation says).",
    ErrorCode.INSUFFICIENT_FUNDS: "The account's balance (with its overdraft limit, if any) does not cover the "
    "amount. Nothing was paid.",
    ErrorCode.ACCOUNT_NOT_FOUND: "No such account, or not one your app may see.",
    ErrorCode.ACCOUNT_NOT_ACTIVE: "The account is closed or blocked; no money moves in or out of it.",
    ErrorCode.ACCOUNT_NOT_SHARED: "The customer did not share this account with your app. Ask the customer to "
    "connect again and tick it.",
    ErrorCode.NOT_YOUR_ACCOUNT: "The account belongs to someone else than the connected customer.",
    ErrorCode.SAME_ACCOUNT: "The source and the destination are the same account.",
    ErrorCode.INVALID_ACCOUNT_TYPE: "The account `type` is not one the bank opens (see the API reference).",
    ErrorCode.SAVINGS_GOAL_NOT_ALLOWED: "Only a savings account has a savings goal.",
    ErrorCode.SAVINGS_ONLY_TO_OWN_ACCOUNTS: "Money leaves a savings account only to the customer's own accounts.",
    ErrorCode.CO_OWNER_NOT_ALLOWED: "Only a joint account has a co-owner.",
    ErrorCode.CO_OWNER_IS_OWNER: "The co-owner of a joint account must be another customer.",
    ErrorCode.ALREADY_ANSWERED: "The invitation was already accepted or declined.",
    ErrorCode.IBAN_ALLOCATION_FAILED: "The bank could not allocate a new IBAN just now. Retry with the same "
    "Idempotency-Key.",
    ErrorCode.INVALID_DEPOSIT: "A deposit must be made into an account of the bank.",
    ErrorCode.SANDBOX_MONEY: "A sandbox test customer's money stays among test customers: it is never paid to a "
    "real customer or to an IBAN outside the bank, a real customer never pays a test customer, and a joint "
    "account has test customers only or none. Test with another test customer as the counterparty.",
    ErrorCode.USE_DRAFT_PAYMENT: "With `payments:internal` an app moves money only between the customer's own "
    "accounts. To pay anyone else, create a draft payment (`payments:draft`) for the customer to approve.",
    ErrorCode.INVALID_ENTRIES: "A draft payment has 1 to 25 entries, each with an amount and a counterparty.",
    ErrorCode.REASON_TOO_LONG: "The reason is longer than the bank keeps. Shorten it.",
    ErrorCode.REASON_REQUIRED: "This act needs a reason, which is kept in the audit log.",
    ErrorCode.DRAFT_ACCEPTED: "The customer already approved this draft payment; it was paid and cannot change.",
    ErrorCode.DRAFT_REJECTED: "The customer rejected this draft payment; it cannot change. Create a new one.",
    ErrorCode.DRAFT_CANCELLED: "The draft payment was cancelled; it cannot change. Create a new one.",
    ErrorCode.DRAFT_EXPIRED: "The draft payment expired before the customer approved it. Create a new one.",
    ErrorCode.CUSTOMER_ONLY: "Only the customer can do this, in the bank's own pages (approving a draft, for "
    "example). An app can prepare it, never complete it.",
    ErrorCode.REQUEST_TO_SELF: "A customer cannot request money from themselves.",
    ErrorCode.REQUEST_ACCEPTED: "The payment request was already paid.",
    ErrorCode.REQUEST_REJECTED: "The payment request was already declined.",
    ErrorCode.REQUEST_REVOKED: "The payment request was withdrawn by whoever sent it.",
    ErrorCode.INVALID_CARD_TYPE: "The card `type` is not one the bank issues (see the API reference).",
    ErrorCode.INVALID_NAME_ON_CARD: "The name on the card has 1 to 26 characters.",
    ErrorCode.INVALID_LIMIT: "A daily card limit is between 0.00 and the bank's maximum (see the API reference).",
    ErrorCode.INVALID_CARD_TRANSITION: "A card cannot go from its current status to the one asked for (a cancelled "
    "card stays cancelled).",
    ErrorCode.CARD_NOT_CHANGEABLE: "The card is cancelled or expired and cannot change.",
    ErrorCode.STEP_UP_FAILED: "The customer's password (or passkey) did not confirm the act. Nothing happened.",
    ErrorCode.STEP_UP_LOCKED: "Too many failed confirmations: the customer must wait before trying again.",
    ErrorCode.PASSKEY_REQUIRED: "This act needs the customer's passkey.",
    ErrorCode.PASSKEY_REFUSED: "The passkey's answer did not match what was shown to the customer, or it expired. "
    "Nothing happened; start the approval again.",
    ErrorCode.INVALID_SCOPE: "The scope asked for is unknown or not allowed for your app. Ask for more scopes from "
    "your app's page at /developers/.",
    ErrorCode.INVALID_ACCOUNTS: "The accounts chosen are not the customer's, or none were chosen where the scope "
    "needs one.",
    ErrorCode.CONNECTION_ENDED: "The customer's connection with your app has ended (revoked by the customer, by "
    "the bank, or replaced by a newer consent). Ask the customer to connect again.",
    ErrorCode.INVALID_APPLICATION: "The app's registration is incomplete or invalid; the `errors` say which field.",
    ErrorCode.NAME_RESERVED: "The app's name imitates the bank's own name. Choose another.",
    ErrorCode.FOUR_EYES: "A second member of staff must approve this change; the one who proposed it cannot.",
    ErrorCode.ALREADY_SUSPENDED: "The app is already suspended.",
    ErrorCode.NOT_SUSPENDED: "The app is not suspended, so there is nothing to lift.",
    ErrorCode.INVALID_LOGO: "The logo must be a PNG, JPEG or WebP image of at most 512 KB and 4096 by 4096 pixels.",
    ErrorCode.INVALID_JWKS: "The JSON Web Key Set is not valid: public keys only (a private key is refused and not "
    "stored), ES256, PS256 or EdDSA, each with a unique `kid`.",
    ErrorCode.INVALID_CLIENT_METADATA: "The client metadata do not fit together (for example `private_key_jwt` "
    "without a JWKS).",
    ErrorCode.FAPI_REQUIRED: "Moving money needs a FAPI 2.0 app: `private_key_jwt`, DPoP-bound tokens and pushed "
    "authorization requests. See the FAPI guide.",
    ErrorCode.INVALID_REQUEST_URI: "The `request_uri` is unknown, expired (60 seconds), already used, or pushed by "
    "another client. Push the request again.",
    ErrorCode.INVALID_TARGET: "The notification target is not one the bank will call: an https URL whose host "
    "resolves only to public addresses.",
    ErrorCode.DUPLICATE_FILTER: "This connection already has a notification filter for this category and target.",
    ErrorCode.NOT_AUTHENTICATED: "The request has no access token. Send `Authorization: Bearer <token>` (or "
    "`DPoP <token>` with a DPoP proof for a DPoP-bound token).",
    ErrorCode.INVALID_TOKEN: "The access token is unknown, expired or ended; `detail` says which. Refresh it, or ask "
    "the customer to connect again if the refresh is refused too.",
    ErrorCode.INSUFFICIENT_SCOPE: "The token lacks the scope this operation needs; the `WWW-Authenticate` header "
    "names it. The customer must grant it in a new consent.",
    ErrorCode.INVALID_DPOP_PROOF: "The DPoP proof is missing or wrong: it must be signed by the key the token is "
    "bound to, name this method and URL, be fresh, carry the token's hash (`ath`) and never be reused.",
    ErrorCode.PERMISSION_DENIED: "Your app may not do this for this customer.",
    ErrorCode.NOT_FOUND: "No such resource, or not one your app may see.",
    ErrorCode.METHOD_NOT_ALLOWED: "The operation does not accept this HTTP method; the `Allow` header lists those "
    "it does.",
    ErrorCode.NOT_ACCEPTABLE: "The API answers only `application/json` (and problems as `application/problem+json`).",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "Send the body as `application/json`.",
    ErrorCode.PARSE_ERROR: "The body is not valid JSON.",
    ErrorCode.REQUEST_TOO_LARGE: "The request body is larger than the bank accepts.",
    ErrorCode.THROTTLED: "Too many requests. Wait the seconds in `Retry-After`; the `RateLimit` headers show the "
    "remaining budget of every request.",
    ErrorCode.IDEMPOTENCY_KEY_IN_USE: "A request with this Idempotency-Key is still running. Wait and retry with the "
    "same key: you will get its result.",
    ErrorCode.IDEMPOTENCY_KEY_REUSED: "This Idempotency-Key was used for a different request. Use a new key for a new "
    "request.",
    ErrorCode.INVALID_STATE: "The object is not in a state that allows this (a paid draft, a cancelled card).",
    ErrorCode.SERVICE_UNAVAILABLE: "The bank could not complete the request and changed nothing. Retry after "
    "`Retry-After` seconds, with the same Idempotency-Key.",
    ErrorCode.SERVER_ERROR: "Something went wrong on the bank's side. Retrying with the same Idempotency-Key is safe; "
    "if it goes on, tell support the response's `X-Request-ID`.",
}


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
