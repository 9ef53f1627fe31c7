"""Scope gates. Every viewset action declares the scopes it needs in `required_scopes_by_action`
(alternatives: any one inner list suffices, all scopes of that list are needed). `HasActionScopes`
enforces them and fails closed: an action with no declaration is refused, for every token.

A token without the scope gets 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`.
The toolkit's `TokenMatchesOASRequirements` does the matching, so drf-spectacular writes each
operation's scopes into the schema.
"""

from typing import TYPE_CHECKING

from oauth2_provider.contrib.rest_framework import TokenMatchesOASRequirements
from rest_framework import exceptions
from rest_framework.request import Request

from bank.core.errors import ErrorCode
from connections.models import AccessToken
from connections.scopes import MONEY_MOVING
from connections.selectors import scopes_allowed
from connections.services.applications import money_needs_fapi

if TYPE_CHECKING:  # DRF imports this module from its settings, before its views exist
    from rest_framework.views import APIView

Alternatives = list[list[str]]


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, alternatives: Alternatives) -> None:
        needed = " or ".join(" and ".join(group) for group in alternatives) or "a scope no token has"
        super().__init__(f"This token needs the scope {needed}.", code=ErrorCode.INSUFFICIENT_SCOPE)
        first = " ".join(alternatives[0]) if alternatives else ""
        # DRF's exception handler copies `auth_header` into WWW-Authenticate (RFC 6750 §3.1).
        self.auth_header = f'Bearer error="insufficient_scope", scope="{first}"'


def scopes_for(view: "APIView") -> Alternatives:
    """The declared alternatives for the view's current action; none (deny) when undeclared."""
    declared: dict[str, Alternatives] = getattr(view, "required_scopes_by_action", {})
    return declared.get(getattr(view, "action", None) or "", [])


def effective_scopes(request: Request) -> frozenset[str]:
    """What the app may do now: the scopes its token carries, that the customer granted the
    connection, and that the bank still allows the application, all three (and money-moving ones
    only for FAPI apps, unless the deployment allows bearer apps to move money). No edit of one row
    can widen an app's access, and a scope the bank takes away stops working at the next call."""
    token = request.auth
    if not isinstance(token, AccessToken) or token.connection is None:
        return frozenset()
    granted = frozenset(token.scope.split()) & frozenset(token.connection.scope.split())
    allowed = frozenset(token.application.allowed_scopes.split())
    if not granted <= allowed:  # only a test customer in the sandbox may have granted more
        allowed = scopes_allowed(application=token.application, customer_id=token.connection.user_id)
    granted &= allowed
    if money_needs_fapi(token.application):
        granted -= MONEY_MOVING  # money moves only for apps held to FAPI 2.0 in this deployment
    return granted


class HasActionScopes(TokenMatchesOASRequirements):
    """The toolkit's permission (drf-spectacular reads its requirements into the schema), matched
    against the effective scopes rather than the token's alone."""

    def get_required_alternate_scopes(self, request: Request, view: "APIView") -> dict[str, Alternatives]:
        return {request.method or "GET": scopes_for(view)}

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if request.auth is None:
            return False
        action_map = getattr(view, "action_map", None)
        if action_map is not None and (request.method or "").lower() not in action_map:
            # A method that the router did not map to an action (PUT, DELETE, OPTIONS here):
            # its only handler answers 405 and runs nothing.
            return True
        granted = effective_scopes(request)
        if any(group and set(group) <= granted for group in scopes_for(view)):
            return True
        raise InsufficientScope(scopes_for(view))


def token_has(request: Request, scope: str) -> bool:
    return scope in effective_scopes(request)
