"""The authorization server's pages and endpoints, on the toolkit's own views.

The consent screen (`BankAuthorizationView`) closes three gaps of the toolkit's AuthorizationView:
a client's `approval_prompt=auto` cannot skip it; a posted scope can only narrow the grant (the
originally requested scopes travel in a signed field, not a plain hidden one); and the customer
chooses the accounts the app will see, which become the Connection.
"""

import base64
import binascii
import json
from typing import cast
from urllib.parse import unquote_plus, urlencode, urlsplit

from django import forms
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.views import (
    AuthorizationView,
    IntrospectTokenView,
    OAuthServerMetadataView,
    RevokeTokenView,
    TokenView,
)
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.oauth2.rfc6749 import errors

from bank.core.audit import audit_record, by_customer
from bank.core.errors import DomainError, ErrorCode, ValidationFailed
from bank.core.http import AuthenticatedHttpRequest, client_address, no_store_json, session_key_of, signed_in_user
from bank.core.limits import Limit
from bank.models import MonetaryAccount
from bank.selectors import active_accounts_of
from bank.services.passkeys import CREDENTIAL_FIELD as PASSKEY_CREDENTIAL
from bank.services.passkeys import STEP_FIELD as PASSKEY_STEP
from bank.services.passkeys import Approval, challenge_answer, has_passkey, second_factor_confirm
from bank.vocabulary import AuditAction
from connections import scopes as scope_table
from connections.forms import ConsentForm
from connections.keys import ALGORITHMS
from connections.models import AccessToken, Application, Connection
from connections.oauth.access import token_checksum
from connections.oauth.client_auth import AssertionRefused, assertion_client_id
from connections.oauth.dpop import ProofRefused, is_thumbprint, proof_verify
from connections.oauth.par import PushRefused, pushed_parameters
from connections.oauth.validator import DPOP_JKT, ENDPOINT_URL, authenticated_client
from connections.selectors import scopes_allowed
from connections.services.authorization import LIFETIME as PUSHED_LIFETIME
from connections.services.authorization import oauth_refusal_record, pushed_request_create, pushed_request_take
from connections.services.connections import connection_grant

CONSENT_SALT = "connections.consent"
CONSENT_MAX_AGE = 15 * 60

# The authorization request's parameters that the toolkit needs to issue the code.
type Credentials = dict[str, str | Connection]
CREDENTIAL_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "dpop_jkt",
)


class SeeOtherRedirect(OAuth2ResponseRedirect):
    """Credential-bearing redirects are 303: the browser follows with GET and never re-posts the form."""

    status_code = 303


def pushed_request_take_checked(query: QueryDict) -> dict[str, str]:
    """Take a pushed request named by `request_uri`, refusing parameters beside it that conflict."""
    client_id = query.get("client_id", "")
    request_uri = query.get("request_uri", "")
    extra = {key: query.getlist(key) for key in query if key not in ("client_id", "request_uri")}
    pushed = pushed_request_take(client_id=client_id, request_uri=request_uri)
    conflicting = sorted(key for key, values in extra.items() if values != [pushed.get(key)])
    if conflicting:
        raise ValidationFailed(
            f"These parameters differ from the pushed request: {', '.join(conflicting)}.", code=ErrorCode.INVALID
        )
    return pushed


def consent_approval(application: Application, scopes: list[str], account_ids: list[int]) -> Approval:
    """What Allow grants, as a passkey approval: this app, these scopes, these accounts."""
    return Approval(
        operation=f"consent:{application.client_id}",
        shown={"scopes": sorted(scopes), "accounts": sorted(account_ids)},
        summary=f"allow {application.name} {', '.join(scopes)} on {len(account_ids)} of your accounts",
    )


@method_decorator(never_cache, name="dispatch")
class BankAuthorizationView(AuthorizationView):
    template_name = "connections/authorize.html"
    form_class = ConsentForm
    request: AuthenticatedHttpRequest

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        query = request.GET.copy()
        query.pop("approval_prompt", None)  # the customer always sees the screen: no client skips it
        client_id = query.get("client_id", "")
        application = Application.objects.filter(client_id=client_id).first() if client_id else None
        if "request_uri" in query:
            try:
                query = self._pushed(query)
            except ValidationFailed as exc:
                return self.refused(
                    application,
                    "invalid_request_uri" if exc.code == "invalid_request_uri" else "invalid_request",
                    exc.message,
                )
        elif application is not None and application.require_pushed_authorization_requests:
            return self.refused(
                application, "invalid_request", "This app must push its authorization requests to /o/par/ first."
            )
        self.dpop_jkt = query.get("dpop_jkt", "")
        if self.dpop_jkt and not is_thumbprint(self.dpop_jkt):
            return self.refused(application, "invalid_request", "dpop_jkt is not a JWK SHA-256 thumbprint.")
        if application is not None and settings.BANK_SANDBOX:
            beyond = set(query.get("scope", "").split()) - scopes_allowed(
                application=application, customer_id=signed_in_user(request).pk
            )
            if beyond:  # the scopes backend let every scope through: only test customers grant them
                return self.refused(
                    application,
                    "invalid_scope",
                    f"The bank has not allowed this app {', '.join(sorted(beyond))} yet. In the sandbox only "
                    "test customers can grant any scope; the app's developer can ask for more at /developers/.",
                )
        # The toolkit reads the request from the query string (to validate) and from GET (the prompt).
        request.META["QUERY_STRING"] = query.urlencode()
        request.GET = QueryDict(request.META["QUERY_STRING"])
        return super().get(request, *args, **kwargs)

    @staticmethod
    def _pushed(query: QueryDict) -> QueryDict:
        """The pushed request's parameters in place of the query. A parameter sent beside the
        request_uri must say what was pushed: anything else is an error, never silently ignored."""
        pushed = pushed_request_take_checked(query)
        resolved = QueryDict(mutable=True)
        for key, value in pushed.items():
            resolved[key] = value
        return resolved

    def refused(self, application: Application | None, error: str, description: str) -> HttpResponse:
        """An authorization request refused before any consent: shown on the bank's page, audited."""
        oauth_refusal_record(application, endpoint="authorize", error=error)
        shown = errors.CustomOAuth2Error(error=error, description=description)
        return self.render_to_response({"error": shown, "application": application}, status=400)

    def get_form(self, form_class: type[forms.Form] | None = None) -> ConsentForm:
        form = super().get_form(form_class)
        assert isinstance(form, ConsentForm)
        form.offer_accounts(self._accounts())
        return form

    def get_initial(self) -> dict[str, object]:
        initial: dict[str, object] = super().get_initial()
        requested = str(initial["scope"]).split()
        initial["scope"] = requested
        initial["accounts"] = [a.pk for a in self._accounts()]
        # The request as the toolkit validated it, signed: the POST can change nothing of it.
        validated = {key: initial[key] for key in CREDENTIAL_FIELDS if initial.get(key)}
        if getattr(self, "dpop_jkt", ""):
            validated["dpop_jkt"] = self.dpop_jkt  # the code will be bound to this DPoP key
        initial["requested"] = signing.dumps(
            {**validated, "user": self.request.user.pk, "scope": requested}, salt=CONSENT_SALT
        )
        return initial

    def _accounts(self) -> list[MonetaryAccount]:
        if not hasattr(self, "_account_cache"):
            self._account_cache = list(active_accounts_of(customer=self.request.user))
        return self._account_cache

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context: dict[str, object] = super().get_context_data(**kwargs)
        rows = scope_table.describe(cast(list[str], self.oauth2_data.get("scopes", [])))
        context["scope_rows"] = rows
        context["asks_money"] = any(row.money_moving for row in rows)
        context["accounts"] = self._accounts()
        context["redirect_host"] = urlsplit(str(self.oauth2_data.get("redirect_uri", ""))).netloc
        context["has_passkey"] = has_passkey(customer=self.request.user)
        return context

    def redirect(self, redirect_to: str, application: Application | None) -> HttpResponse:
        schemes = application.get_allowed_schemes() if application is not None else ["https"]
        return SeeOtherRedirect(redirect_to, schemes)

    def error_response(
        self, error: OAuthToolkitError, application: Application | None, **kwargs: object
    ) -> HttpResponse:
        """An error goes back to the app only if the bank verified it, and only to the redirect URI
        that oauthlib validated, with `iss` (RFC 9207). Any other error is shown here, naming the
        app: the bank never sends a customer to an address it has not vetted (RFC 9700 §4.11.2)."""
        redirect, details = OAuthLibMixin.error_response(self, error)
        if application is None:
            client_id = self.request.GET.get("client_id", "")
            application = Application.objects.filter(client_id=client_id).first() if client_id else None
        if redirect and application is not None and application.verified and error.oauthlib_error.redirect_uri:
            return self.redirect(f"{details['url']}&{urlencode({'iss': settings.OAUTH2_ISSUER})}", application)
        return self.render_to_response(
            {"error": details["error"], "application": application}, status=error.oauthlib_error.status_code
        )

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        # A tampered or expired form: show nothing of the client's, send nobody anywhere.
        return HttpResponse(
            "This authorization request is invalid or has expired. Start again from the app.", status=400
        )

    def form_valid(self, form: forms.Form) -> HttpResponse:
        data = form.cleaned_data
        try:
            requested = signing.loads(data["requested"], salt=CONSENT_SALT, max_age=CONSENT_MAX_AGE)
        except signing.BadSignature:
            return self.form_invalid(form)
        if requested["user"] != self.request.user.pk:
            return self.form_invalid(form)
        application = Application.objects.filter(client_id=requested["client_id"]).first()
        if application is None:
            return self.form_invalid(form)
        credentials: Credentials = {key: requested[key] for key in CREDENTIAL_FIELDS if key in requested}
        asks_options = self.request.POST.get(PASSKEY_STEP) == "options"
        if asks_options and not data.get("allow"):
            return no_store_json({"code": "passkey_not_needed", "detail": "Only Allow needs a passkey."}, status=400)
        if not data.get("allow"):
            audit_record(AuditAction.CONSENT_DENIED, by_customer(self.request.user), application=application)
            return self._authorize(application, credentials, scopes=requested["scope"], allow=False)

        # Never more than was requested, nor more than the bank allows this app.
        customer = self.request.user
        allowed = scopes_allowed(application=application, customer_id=customer.pk)
        granted = scope_table.ordered(set(data["scope"]) & set(requested["scope"]) & allowed)
        needs_passkey = bool(set(granted) & scope_table.MONEY_MOVING) and has_passkey(customer=customer)
        approval = consent_approval(application, granted, data["accounts"])
        if asks_options:
            if not needs_passkey:
                return no_store_json({"code": "passkey_not_needed", "detail": "Press Allow again."}, status=400)
            return no_store_json(
                challenge_answer(customer=customer, session_key=session_key_of(self.request), approval=approval)
            )
        if needs_passkey:
            # Two factors before an app may move money: the passkey, bound to this app, these scopes
            # and these accounts.
            try:
                second_factor_confirm(
                    customer=customer,
                    session_key=session_key_of(self.request),
                    approval=approval,
                    credential=self.request.POST.get(PASSKEY_CREDENTIAL, ""),
                    password="",
                )
            except DomainError as exc:
                return self._consent_again(
                    form, application, requested["scope"], requested.get("redirect_uri", ""), exc.message
                )
        try:
            with transaction.atomic():
                connection = connection_grant(
                    user=self.request.user, application=application, scopes=granted, accounts=data["accounts"]
                )
                credentials["connection"] = connection
                return self._authorize(application, credentials, scopes=granted, allow=True)
        except ValidationFailed as exc:
            return self._consent_again(
                form, application, requested["scope"], requested.get("redirect_uri", ""), exc.message
            )

    def _consent_again(
        self, form: forms.Form, application: Application, scopes: list[str], redirect_uri: str, message: str
    ) -> HttpResponse:
        """The consent screen again, as it was, with why nothing was granted."""
        form.add_error(None, message)
        self.oauth2_data = {"scopes": scopes, "application": application, "redirect_uri": redirect_uri}
        return self.render_to_response(self.get_context_data(form=form, application=application), status=400)

    def _authorize(
        self, application: Application, credentials: Credentials, *, scopes: list[str], allow: bool
    ) -> HttpResponse:
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=self.request, scopes=" ".join(scopes), credentials=credentials, allow=allow
            )
        except OAuthToolkitError as error:
            if allow:
                transaction.set_rollback(True)
            return self.error_response(error, application)
        return self.redirect(uri, application)


# The grants this server issues tokens for; any other is refused before the toolkit sees it.
SUPPORTED_GRANTS = ("authorization_code", "refresh_token")


def oauth_error(status: int, error: str, description: str, **headers: str) -> JsonResponse:
    """An OAuth error response (RFC 6749 §5.2): JSON, never cached."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name] = value
    return response


def claimed_client_id(request: HttpRequest) -> str:
    """The client id a token request names, in its body, its Basic credentials or its client
    assertion (not yet checked)."""
    if request.POST.get("client_id"):
        return request.POST["client_id"][:255]
    if request.POST.get("client_assertion"):
        try:
            return assertion_client_id(request.POST["client_assertion"])[:255]
        except AssertionRefused:
            return ""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return unquote_plus(decoded.partition(":")[0])[:255]


def dpop_at_the_token_endpoint(request: HttpRequest) -> HttpResponse | None:
    """Verify a DPoP proof sent to the token endpoint and hand its key to the validator (which binds
    the tokens to it); a bad proof is refused at once, before anything is issued."""
    proof = request.headers.get("DPoP")
    if proof is None:
        return None
    try:
        if "," in proof:
            raise ProofRefused("Send exactly one DPoP proof.")
        verified = proof_verify(proof, method="POST", url=request.build_absolute_uri(request.path))
    except ProofRefused as exc:
        return oauth_error(400, exc.error, exc.description)
    request.META[DPOP_JKT] = verified.jkt
    return None


class BankTokenView(TokenView):
    """The toolkit's token endpoint, with its abuse handled: only the two grants the bank issues,
    rate limits per address and per client, each request in one transaction (so two refreshes of
    one token are serialised, see the validator), and refusals of known clients audited (at most
    once a minute per client and kind), never a credential."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        address = client_address(request)
        client_id = claimed_client_id(request)
        per_address = Limit.parse("token-address", settings.OAUTH_TOKEN_RATE_PER_ADDRESS)
        per_client = Limit.parse("token-client", settings.OAUTH_TOKEN_RATE_PER_CLIENT)
        if per_address.hit(address) > per_address.attempts or (client_id and per_client.exceeded(client_id)):
            return oauth_error(
                429,
                "slow_down",
                "Too many token requests from this client or address; wait before trying again.",
                **{"Retry-After": str(per_address.retry_after)},
            )
        if request.POST.get("grant_type") not in SUPPORTED_GRANTS:
            response: HttpResponse = oauth_error(
                400,
                "unsupported_grant_type",
                "This server issues tokens for authorization_code and refresh_token only.",
            )
        else:
            request.META[ENDPOINT_URL] = request.build_absolute_uri(request.path)
            refused = dpop_at_the_token_endpoint(request)
            if refused is not None:
                response = refused
            else:
                with transaction.atomic():
                    response = super().post(request, *args, **kwargs)
        if client_id and response.status_code != 401:
            per_client.hit(client_id)  # only a client that authenticated spends its own budget
        if response.status_code >= 400:
            self._oauth_refusal_record(request, client_id, response)
        return response

    @staticmethod
    def _oauth_refusal_record(request: HttpRequest, client_id: str, response: HttpResponse) -> None:
        application = Application.objects.filter(client_id=client_id).first() if client_id else None
        try:
            error = str(json.loads(response.content).get("error", ""))[:40]
        except ValueError:
            error = ""
        oauth_refusal_record(
            application,
            endpoint="token",
            error=error,
            action=AuditAction.TOKEN_REFUSED,
            data={"grant_type": request.POST.get("grant_type", "")[:40], "status": response.status_code},
        )


@method_decorator(csrf_exempt, name="dispatch")
class PushedAuthorizationRequestView(View):
    """`POST /o/par/` (RFC 9126): the client authenticates (its secret or private_key_jwt), pushes its
    authorization request, and gets a `request_uri` that works once, for it only, for 60 seconds."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        per_address = Limit.parse("token-address", settings.OAUTH_TOKEN_RATE_PER_ADDRESS)
        if per_address.hit(client_address(request)) > per_address.attempts:
            return oauth_error(429, "slow_down", "Too many requests from this address; wait before trying again.")
        client, why = authenticated_client(request)
        if client is None:
            known = Application.objects.filter(client_id=claimed_client_id(request)).first()
            oauth_refusal_record(known, endpoint="par", error="invalid_client")
            return oauth_error(401, "invalid_client", why)
        proof_jkt = ""
        proof = request.headers.get("DPoP")
        try:
            if proof is not None:
                proof_jkt = proof_verify(proof, method="POST", url=request.build_absolute_uri(request.path)).jkt
            parameters = pushed_parameters(request.POST, client=client, proof_jkt=proof_jkt)
        except (ProofRefused, PushRefused) as exc:
            oauth_refusal_record(client, endpoint="par", error=exc.error)
            return oauth_error(400, exc.error, exc.description)
        request_uri = pushed_request_create(application=client, parameters=parameters)
        response = JsonResponse(
            {"request_uri": request_uri, "expires_in": int(PUSHED_LIFETIME.total_seconds())}, status=201
        )
        response["Cache-Control"] = "no-store"
        return response


@method_decorator(csrf_exempt, name="dispatch")
class BankRevokeTokenView(RevokeTokenView):
    """RFC 7009 revocation, with private_key_jwt accepted for clients registered for it."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        request.META[ENDPOINT_URL] = request.build_absolute_uri(request.path)
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response


@method_decorator(csrf_exempt, name="dispatch")
class BankIntrospectTokenView(View):
    """RFC 7662 token introspection, for resource servers only: the client must authenticate (its
    secret or private_key_jwt) and be one that staff allowed the `introspection` scope. The toolkit's answer is given
    to those; every other caller learns nothing."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            # A customer's token, however valid, never carries the introspection scope.
            return oauth_error(403, "insufficient_scope", "Introspection needs a resource server's client credentials.")
        client, why = authenticated_client(request)
        if client is None:
            return oauth_error(
                401,
                "invalid_client",
                f"Authenticate as a resource server with its client credentials. {why}",
                **{"WWW-Authenticate": 'Basic realm="introspection"'},
            )
        if scope_table.INTROSPECTION not in client.allowed_scopes.split():
            return oauth_error(403, "insufficient_scope", "This client may not introspect tokens.")
        response: HttpResponse = IntrospectTokenView.get_token_response(request.POST.get("token"))
        answer = json.loads(response.content)
        if answer.get("active"):
            token = AccessToken.objects.filter(token_checksum=token_checksum(request.POST.get("token", ""))).first()
            if token is not None and token.dpop_jkt:
                answer.update({"token_type": "DPoP", "cnf": {"jkt": token.dpop_jkt}})  # RFC 9449 §6.2
        response = JsonResponse(answer)
        response["Cache-Control"] = "no-store"
        return response


class BankServerMetadataView(OAuthServerMetadataView):
    """RFC 8414 metadata, listing exactly what the server accepts: pushed requests, DPoP, private_key_jwt
    with the algorithms the bank allows, and for introspection a resource server's authentication
    only (never a public client's bare id)."""

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        data = json.loads(super().get(request, *args, **kwargs).content)
        secrets_and_keys = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
        data.update(
            {
                "pushed_authorization_request_endpoint": settings.OAUTH2_ISSUER.rstrip("/")
                + reverse("oauth2_provider:par"),
                "require_pushed_authorization_requests": False,  # per app: require_pushed_authorization_requests
                "dpop_signing_alg_values_supported": list(ALGORITHMS),
                "token_endpoint_auth_methods_supported": [*secrets_and_keys, "none"],
                "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
                "revocation_endpoint_auth_methods_supported": [*secrets_and_keys, "none"],
                "revocation_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
                "introspection_endpoint_auth_methods_supported": secrets_and_keys,
                "introspection_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
                "authorization_response_iss_parameter_supported": True,
            }
        )
        response = JsonResponse(data)
        response["Access-Control-Allow-Origin"] = "*"
        return response
