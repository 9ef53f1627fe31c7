"""The toolkit's validator, hardened for the bank.

- Codes work once: the first redemption claims the code atomically; any later one (sequential or
  concurrent) is a replay and revokes the connection, and with it every token issued from that code.
- Every token carries its connection, and is refused once the connection is revoked or expired.
"""

import hashlib
import uuid
from collections import OrderedDict
from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request
from oauthlib.oauth2 import WebApplicationServer
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant

from connections.models import AccessToken, Application, Connection, Grant, RefreshToken, RevokedBy
from connections.services.connections import connection_revoke

type TokenDict = dict[str, str | int]


def _invalid_token(request: Request, description: str) -> None:
    request.oauth2_error = OrderedDict([("error", "invalid_token"), ("error_description", description)])


class BankOAuth2Validator(OAuth2Validator):
    # --- resource server side: bearer tokens --------------------------------------------------

    def _load_access_token(self, token: str) -> AccessToken | None:
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return (
            AccessToken.objects.select_related("application", "user", "connection")
            .filter(token_checksum=checksum)
            .first()
        )

    def validate_bearer_token(self, token: str, scopes: list[str], request: Request) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        access_token: AccessToken = request.access_token
        connection = access_token.connection
        if connection is None or not connection.is_active:
            _invalid_token(request, "The connection behind this token has ended.")
            return False
        if access_token.user is None or not access_token.user.is_active:
            _invalid_token(request, "The bank has blocked this customer's access.")
            return False
        return True

    # --- authorization codes ------------------------------------------------------------------

    def _create_authorization_code(
        self, request: Request, code: dict[str, str], expires: datetime | None = None
    ) -> Grant:
        grant = super()._create_authorization_code(request, code, expires)
        grant.connection = getattr(request, "connection", None)
        grant.save(update_fields=["connection"])
        return grant

    def validate_code(
        self, client_id: str, code: str, client: Application, request: Request, *args: object, **kwargs: object
    ) -> bool:
        grant = Grant.objects.select_related("connection", "user").filter(code=code, application=client).first()
        if grant is None:
            return False
        # Claim the code: exactly one request can move redeemed_at from NULL to now.
        claimed = Grant.objects.filter(pk=grant.pk, redeemed_at__isnull=True).update(redeemed_at=timezone.now())
        if not claimed:
            if grant.connection is not None:
                connection_revoke(connection=grant.connection, by=RevokedBy.CODE_REPLAY)
            return False
        if grant.is_expired() or grant.connection is None or not grant.connection.is_active:
            return False
        if not grant.user.is_active:
            return False  # the bank blocked the customer after consent
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        request.connection = grant.connection
        return True

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Request, *args: object, **kwargs: object
    ) -> None:
        """The code was claimed in validate_code; it stays (redeemed) so that a replay is recognised."""

    # --- refresh tokens -----------------------------------------------------------------------

    def validate_refresh_token(
        self, refresh_token: str, client: Application, request: Request, *args: object, **kwargs: object
    ) -> bool:
        # Serialise refreshes of one token (the token endpoint runs in one transaction): a parallel
        # refresh waits on the row lock until the first has committed its rotation.
        checksum = hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()
        live_on_arrival = RefreshToken.objects.filter(token_checksum=checksum, revoked__isnull=True).exists()
        rows = list(RefreshToken.objects.select_for_update().filter(token_checksum=checksum))
        if live_on_arrival and rows and all(row.revoked is not None for row in rows):
            # It was live when this request arrived and a parallel request rotated it meanwhile:
            # that one won. This one gets nothing, and the race is not taken for a stolen token's
            # reuse (which ends the family, the winner's new token included). A token presented
            # after its rotation has committed is a reuse, and the toolkit ends the family below.
            request.error_description = "This refresh token was used by a concurrent request; use the newest one."
            return False
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        connection: Connection | None = request.refresh_token_instance.connection
        if connection is None or not connection.is_active or not client.is_usable(request):
            return False
        if not request.user.is_active:
            return False  # the bank blocked the customer
        request.connection = connection
        return True

    # --- RFC 7009 revocation by the app --------------------------------------------------------

    def revoke_token(self, token: str, token_type_hint: str, request: Request, *args: object, **kwargs: object) -> None:
        """Revoking an access token ends that token; revoking a live refresh token ends the grant
        it stands for (RFC 7009 §2.1), which here is the whole connection, recorded as ended by
        the app. Only the authenticated client's own tokens are found (the toolkit's rule)."""
        application_pk = getattr(request.client, "pk", None)
        if application_pk is not None:
            refresh_token = (
                RefreshToken.objects.select_related("connection")
                .filter(
                    token_checksum=hashlib.sha256(token.encode("utf-8")).hexdigest(),
                    application_id=application_pk,
                    revoked__isnull=True,
                )
                .first()
            )
            if refresh_token is not None and refresh_token.connection is not None:
                connection_revoke(connection=refresh_token.connection, by=RevokedBy.APP)
                return
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)

    # --- every new token belongs to the connection it came from --------------------------------

    def _create_access_token(
        self, expires: datetime, request: Request, token: TokenDict, source_refresh_token: RefreshToken | None = None
    ) -> AccessToken:
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
            connection=getattr(request, "connection", None),
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        return access_token

    def _create_refresh_token(
        self,
        request: Request,
        refresh_token_code: str,
        access_token: AccessToken,
        previous_refresh_token: RefreshToken | None,
    ) -> RefreshToken:
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=previous_refresh_token.token_family if previous_refresh_token else uuid.uuid4(),
            resource=getattr(request, "resource", []),
            connection=getattr(request, "connection", None),
        )
        self._set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        return refresh_token


class BankServer(WebApplicationServer):
    """oauthlib's server for web applications: only the authorization-code and refresh-token grants
    (no implicit, password or client-credentials), and PKCE with S256 only, refused at the
    authorization request itself, before any consent screen."""

    def __init__(self, request_validator: OAuth2Validator, *args: object, **kwargs: object) -> None:
        super().__init__(request_validator, *args, **kwargs)
        s256 = AuthorizationCodeGrant._code_challenge_methods["S256"]
        self.auth_grant._code_challenge_methods = {"S256": s256}


def authenticated_client(request: HttpRequest) -> Application | None:
    """The client that a request to one of the server's own endpoints authenticates as (its secret,
    in the Authorization header or the body), through the same validator as the token endpoint."""
    # The toolkit reads the Authorization header under its WSGI name, as its own views pass it.
    headers = {"HTTP_AUTHORIZATION": request.META.get("HTTP_AUTHORIZATION", ""), "Content-Type": request.content_type}
    oauth_request = Request(request.build_absolute_uri(), request.method or "POST", request.body, headers)
    validator = get_oauthlib_core().server.request_validator
    if not validator.authenticate_client(oauth_request):
        return None
    client: Application = oauth_request.client
    return client
