"""Domain errors: every refusal has a stable machine code, a clear message and an HTTP status.

Services raise these and change nothing; the API's exception handler and the customer's pages
turn them into problem details and messages.
"""

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 400
    title = "The request could not be carried out"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400
    title = "Invalid input"


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    title = "Not allowed"


class InvalidState(DomainError):
    """The object is not in a state that allows this act (a paid draft, a cancelled card)."""

    code = "invalid_state"
    status = 409
    title = "Conflict with the current state"


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    status = 422
    title = "Insufficient funds"
