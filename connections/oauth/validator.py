"""The toolkit's validator, hardened for the bank.

- Codes work once: the first redemption claims the code atomically; any later one (sequential or
  concurrent) is a replay and revokes the connection, and with it every token issued from that code.
- Every token carries its connection, and is refused once the connection is revoked or expired.
- Clients registered for `private_key_jwt` authenticate with a signed assertion, and only so
  (`client_auth`); the others with their secret, and only so.
- DPoP: the token endpoint's view verifies the proof and passes its key's thumbprint in the WSGI
  environ (`DPOP_JKT`, a key no HTTP header can produce); codes bound to a key are redeemed only with
  it, tokens are bound to it, and a refresh must prove the same key.
"""

import base64
import hashlib
import secrets
import uuid
from collections import OrderedDict
from datetime import datetime
from urllib.parse import unquote_plus, urlsplit

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request
from oauthlib.oauth2 import WebApplicationServer
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant

from connections.models import (
    AUTHENTICATING,
    AccessToken,
    Application,
    Connection,
    Grant,
    RefreshToken,
    RevokedBy,
    TokenEndpointAuthMethod,
)
from connections.services.connections import connection_revoke

from .access import access_token_load, access_token_refusal
from .client_auth import ASSERTION_TYPE, AssertionCheck, AssertionRefused, assertion_client_id, assertion_verify

type TokenDict = dict[str, str | int]

# Keys of the WSGI environ that the bank's own OAuth views set for the validator. Headers reach the
# environ only as HTTP_*, so no client can set these.
ENDPOINT_URL = "bank.endpoint_url"  # the absolute URL of the endpoint called (an assertion's aud)
DPOP_JKT = "bank.dpop_jkt"  # the thumbprint of the key of a verified DPoP proof


def _environ(request: Request, key: str) -> str:
    value = request.headers.get(key, "") if request.headers else ""
    return str(value or "")


def _refused(request: Request, error: str, description: str) -> errors.CustomOAuth2Error:
    return errors.CustomOAuth2Error(error=error, description=description, status_code=400, request=request)


def _verifier_matches(grant: Grant, verifier: str | None) -> bool:
    """RFC 7636 S256 (the only method the bank accepts), as oauthlib checks it after validate_code;
    checked here first so that a mismatch can say so."""
    if not verifier:
        return False
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return secrets.compare_digest(base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), grant.code_challenge)


def _presented_secret(request: Request, basic: str | None) -> tuple[str, str]:
    """The client id and secret a request presents, from HTTP Basic (RFC 6749 2.3.1) or the body."""
    if basic:
        try:
            client_id, _, secret = base64.b64decode(basic).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        return unquote_plus(client_id), unquote_plus(secret)
    return str(getattr(request, "client_id", "") or ""), str(getattr(request, "client_secret", "") or "")


def _invalid_token(request: Request, description: str) -> None:
    request.oauth2_error = OrderedDict([("error", "invalid_token"), ("error_description", description)])


class BankOAuth2Validator(OAuth2Validator):
    # --- client authentication ----------------------------------------------------------------

    def authenticate_client(self, request: Request, *args: object, **kwargs: object) -> bool:
        # Body parameters become attributes of oauthlib's request; absent ones raise AttributeError.
        assertion = getattr(request, "client_assertion", None)
        assertion_type = getattr(request, "client_assertion_type", None)
        with_assertion = assertion is not None or assertion_type is not None
        if with_assertion:
            authenticated = self._authenticate_with_assertion(request, str(assertion or ""), str(assertion_type or ""))
        else:
            # A suspended app still proves who it is, so that it (and nobody else) learns why it is refused.
            setattr(request, AUTHENTICATING, True)
            try:
                authenticated = super().authenticate_client(request, *args, **kwargs) or self._previous_secret_matches(
                    request
                )
            finally:
                setattr(request, AUTHENTICATING, False)
        if not authenticated:
            return False
        if not request.client.is_usable(request):
            raise errors.CustomOAuth2Error(
                error="invalid_client",
                description="The bank has suspended this app; contact the bank.",
                status_code=401,
                request=request,
            )
        if not with_assertion and request.client.token_endpoint_auth_method == TokenEndpointAuthMethod.PRIVATE_KEY_JWT:
            request.error_description = "This client authenticates with private_key_jwt, never with a secret."
            return False
        return True

    def _previous_secret_matches(self, request: Request) -> bool:
        """The secret a rotation replaced, while its overlap lasts (Basic or in the body)."""
        client_id, secret = _presented_secret(request, self._extract_basic_auth(request))
        if not secret:
            return False
        application = Application.objects.filter(
            client_id=client_id, previous_secret_expires_at__gt=timezone.now(), deleted_at__isnull=True
        ).first()
        if application is None or not check_password(secret, application.previous_client_secret):
            return False
        request.client = application
        request.client_id = application.client_id
        return True

    def _authenticate_with_assertion(self, request: Request, assertion: str, assertion_type: str) -> bool:
        try:
            if assertion_type != ASSERTION_TYPE:
                raise AssertionRefused(f"client_assertion_type must be {ASSERTION_TYPE}.")
            client_id = assertion_client_id(assertion)
            if request.client_id and request.client_id != client_id:
                raise AssertionRefused("client_id and the client_assertion's iss differ.")
            application = Application.objects.filter(client_id=client_id, deleted_at__isnull=True).first()
            if application is None:
                raise AssertionRefused("No such client.")
            # The issuer, the token endpoint, or the endpoint called (as the issuer names it, or as
            # this request reached it).
            issuer = settings.OAUTH2_ISSUER.rstrip("/")
            called = _environ(request, ENDPOINT_URL)
            audiences = {issuer, f"{issuer}/o/token/"} | ({called, issuer + urlsplit(called).path} if called else set())
            assertion_verify(
                assertion,
                application=application,
                check=AssertionCheck(client_id=client_id, audiences=frozenset(audiences)),
            )
        except AssertionRefused as exc:
            request.error_description = str(exc)
            return False
        request.client = application
        request.client_id = application.client_id
        return True

    # --- resource server side: bearer tokens --------------------------------------------------

    def _load_access_token(self, token: str) -> AccessToken | None:
        return access_token_load(token)

    def validate_bearer_token(self, token: str, scopes: list[str], request: Request) -> bool:
        """The API's own rule (`connections.oauth.access`), for anything that asks oauthlib."""
        access_token = access_token_load(token) if token else None
        refusal = access_token_refusal(access_token, url=(getattr(request, "uri", None) or "").split("?")[0])
        if refusal or access_token is None:
            _invalid_token(request, refusal)
            return False
        if not access_token.allow_scopes(scopes):
            request.oauth2_error = OrderedDict(
                [("error", "insufficient_scope"), ("error_description", "The token lacks a scope this needs.")]
            )
            return False
        request.client = access_token.application
        request.user = access_token.user
        request.scopes = list(access_token.scopes)
        request.access_token = access_token
        return True

    # --- authorization codes ------------------------------------------------------------------

    def _create_authorization_code(
        self, request: Request, code: dict[str, str], expires: datetime | None = None
    ) -> Grant:
        grant = super()._create_authorization_code(request, code, expires)
        grant.connection = getattr(request, "connection", None)
        grant.dpop_jkt = getattr(request, "dpop_jkt", "") or ""
        grant.save(update_fields=["connection", "dpop_jkt"])
        return grant

    def validate_code(
        self, client_id: str, code: str, client: Application, request: Request, *args: object, **kwargs: object
    ) -> bool:
        # Lock the code's row first: concurrent redemptions queue here, one at a time, instead of
        # meeting again in the replay's revocation (which locks the connection, its tokens and codes)
        # in another order and deadlocking.
        grant = (
            Grant.objects.select_for_update(of=("self",))
            .select_related("connection", "user")
            .filter(code=code, application=client)
            .first()
        )
        if grant is None:
            raise _refused(
                request,
                "invalid_grant",
                "This authorization code is unknown to this client: never issued to it, or withdrawn when its "
                "connection ended.",
            )
        # Claim the code: under the row lock, exactly one request finds it unredeemed.
        if grant.redeemed_at is not None:
            if grant.connection is not None:
                connection_revoke(connection=grant.connection, by=RevokedBy.CODE_REPLAY)
            raise _refused(
                request,
                "invalid_grant",
                "This authorization code was already redeemed. A code used twice is taken as stolen: the "
                "connection it created has ended and its tokens are revoked. Ask the customer to connect again.",
            )
        grant.redeemed_at = timezone.now()
        grant.save(update_fields=["redeemed_at"])
        if grant.is_expired():
            raise _refused(
                request,
                "invalid_grant",
                "This authorization code expired: redeem a code within "
                f"{oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS} seconds of the redirect.",
            )
        if grant.connection is None or not grant.connection.is_active:
            description = grant.connection.ended_description() if grant.connection else "This code has no connection."
            raise _refused(request, "invalid_grant", description)
        if not grant.user.is_active:
            raise _refused(request, "invalid_grant", "The bank has blocked this customer's access.")
        if grant.code_challenge and not _verifier_matches(grant, getattr(request, "code_verifier", None)):
            raise _refused(
                request,
                "invalid_grant",
                "The code_verifier does not match the code_challenge of the authorization request. The code "
                "is used up all the same: start the authorization again.",
            )
        self._bind_dpop(request, client, bound_to=grant.dpop_jkt)
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        request.connection = grant.connection
        request.redeemed_grant = grant
        return True

    # oauthlib asks for the code's PKCE challenge and redirect URI after validate_code: from the row
    # it locked and claimed, not from three more queries.

    def _redeemed_grant(self, code: str, request: Request, client: Application) -> Grant:
        grant: Grant | None = getattr(request, "redeemed_grant", None)
        if grant is None or grant.application_id != client.pk:
            return Grant.objects.get(code=code, application=client)
        return grant

    def get_code_challenge(self, code: str, request: Request) -> str | None:
        return self._redeemed_grant(code, request, request.client).code_challenge or None

    def get_code_challenge_method(self, code: str, request: Request) -> str | None:
        return self._redeemed_grant(code, request, request.client).code_challenge_method or None

    def confirm_redirect_uri(
        self, client_id: str, code: str, redirect_uri: str, client: Application, request: Request, *args: object
    ) -> bool:
        return bool(self._redeemed_grant(code, request, client).redirect_uri_allowed(redirect_uri))

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
        rows = list(
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("connection")
            .filter(token_checksum=checksum)
        )
        if live_on_arrival and rows and all(row.revoked is not None for row in rows):
            # It was live when this request arrived and a parallel request rotated it meanwhile:
            # that one won. This one gets nothing, and the race is not taken for a stolen token's
            # reuse (which ends the family, the winner's new token included). A token presented
            # after its rotation has committed is a reuse, and the toolkit ends the family below.
            raise _refused(
                request, "invalid_grant", "This refresh token was used by a concurrent request; use the newest one."
            )
        if not rows or rows[0].application_id != client.pk:
            raise _refused(request, "invalid_grant", "This refresh token is not one this client was given.")
        ended = rows[0].connection
        if ended is not None and not ended.is_active:
            raise _refused(request, "invalid_grant", ended.ended_description())
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            # A used (rotated) refresh token presented again: the toolkit has ended its family; the
            # connection ends with it, so the customer sees it ended and the app must ask again.
            if ended is not None:
                connection_revoke(connection=ended, by=RevokedBy.REFRESH_REPLAY)
            raise _refused(
                request,
                "invalid_grant",
                "This refresh token was already used. A used refresh token presented again is taken as "
                "stolen: the connection has ended and its tokens are revoked. Ask the customer to connect again.",
            )
        connection_id = request.refresh_token_instance.connection_id
        connection: Connection | None = ended if ended is not None and ended.pk == connection_id else None
        if connection is None or not connection.is_active:
            raise _refused(request, "invalid_grant", "This refresh token has no live connection.")
        if not client.is_usable(request):
            raise _refused(request, "invalid_grant", "The bank has suspended this app; contact the bank.")
        if not request.user.is_active:
            raise _refused(request, "invalid_grant", "The bank has blocked this customer's access.")
        self._bind_dpop(request, client, bound_to=request.refresh_token_instance.dpop_jkt)
        request.connection = connection
        return True

    def _bind_dpop(self, request: Request, client: Application, *, bound_to: str) -> None:
        """The DPoP key this grant's tokens are bound to: the proof's. A code or refresh token already
        bound to a key is redeemed only with a proof of that key; an app with DPoP-bound tokens gets
        none without a proof."""
        jkt = _environ(request, DPOP_JKT)
        if not jkt and (bound_to or client.dpop_bound_access_tokens):
            raise _refused(request, "invalid_dpop_proof", "Tokens of this grant are DPoP-bound: send a DPoP proof.")
        if bound_to and jkt != bound_to:
            raise _refused(request, "invalid_grant", "The DPoP proof is signed with another key than this grant's.")
        request.dpop_jkt = jkt

    def save_bearer_token(self, token: TokenDict, request: Request, *args: object, **kwargs: object) -> None:
        super().save_bearer_token(token, request, *args, **kwargs)
        if getattr(request, "dpop_jkt", ""):
            token["token_type"] = "DPoP"  # noqa: S105  (RFC 9449 §5: a token type, not a secret)

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
            dpop_jkt=getattr(request, "dpop_jkt", ""),
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
            dpop_jkt=getattr(request, "dpop_jkt", ""),
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


def authenticated_client(request: HttpRequest) -> tuple[Application | None, str]:
    """The client that a request to one of the server's own endpoints authenticates as (a secret in
    the Authorization header or the body, or a private_key_jwt assertion), through the same validator
    as the token endpoint; or None and why not."""
    # The toolkit reads the Authorization header under its WSGI name, as its own views pass it.
    headers = {
        "HTTP_AUTHORIZATION": request.META.get("HTTP_AUTHORIZATION", ""),
        "Content-Type": request.content_type,
        ENDPOINT_URL: request.build_absolute_uri(request.path),
    }
    oauth_request = Request(request.build_absolute_uri(), request.method or "POST", request.body, headers)
    validator = get_oauthlib_core().server.request_validator
    try:
        authenticated = validator.authenticate_client(oauth_request)
    except errors.CustomOAuth2Error as refused:  # a suspended app, told why
        return None, str(refused.description)
    if not authenticated:
        why = getattr(oauth_request, "error_description", None) or "Client authentication failed."
        return None, str(why)
    client: Application = oauth_request.client
    return client, ""
