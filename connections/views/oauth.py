"""The authorization server's pages and endpoints, on the toolkit's own views.

The consent screen (`BankAuthorizationView`) closes three gaps of the toolkit's AuthorizationView:
a client's `approval_prompt=auto` cannot skip it; a posted scope can only narrow the grant (the
originally requested scopes travel in a signed field, not a plain hidden one); and the customer
chooses the accounts the app will see, which become the Connection.
"""

import base64
import binascii
import json
from urllib.parse import unquote_plus, urlencode, urlsplit

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.views import AuthorizationView, IntrospectTokenView, OAuthServerMetadataView, TokenView
from oauth2_provider.views.mixins import OAuthLibMixin

from bank.core.audit import audit_record
from bank.core.errors import ValidationFailed
from bank.core.http import AuthenticatedHttpRequest, client_address
from bank.core.limits import Limit
from bank.models import MonetaryAccount
from bank.selectors import active_accounts_of
from bank.vocabulary import ActorType, AuditAction
from connections import scopes as scope_table
from connections.forms import ConsentForm
from connections.models import Application, Connection
from connections.oauth.validator import authenticated_client
from connections.services.connections import connection_grant

CONSENT_SALT = "connections.consent"
CONSENT_MAX_AGE = 15 * 60

# The authorization request's parameters that the toolkit needs to issue the code.
type Credentials = dict[str, str | Connection]
CREDENTIAL_FIELDS = ("client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method")


class SeeOtherRedirect(OAuth2ResponseRedirect):
    """Credential-bearing redirects are 303: the browser follows with GET and never re-posts the form."""

    status_code = 303


@method_decorator(never_cache, name="dispatch")
class BankAuthorizationView(AuthorizationView):
    template_name = "connections/authorize.html"
    form_class = ConsentForm
    request: AuthenticatedHttpRequest

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # The customer always sees the screen: a client cannot ask to skip it.
        query = request.GET.copy()
        query.pop("approval_prompt", None)
        request.GET = QueryDict(query.urlencode())
        return super().get(request, *args, **kwargs)

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
        context["scope_rows"] = scope_table.describe(self.oauth2_data.get("scopes", []))
        context["accounts"] = self._accounts()
        context["redirect_host"] = urlsplit(str(self.oauth2_data.get("redirect_uri", ""))).netloc
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
        if not data.get("allow"):
            audit_record(
                action=AuditAction.CONSENT_DENIED,
                actor=self.request.user,
                customer=self.request.user,
                application=application,
                actor_type=ActorType.CUSTOMER,
            )
            return self._authorize(application, credentials, scopes=requested["scope"], allow=False)

        # Never more than was requested, nor more than the bank allows this app.
        granted = scope_table.ordered(
            set(data["scope"]) & set(requested["scope"]) & set(application.allowed_scope_list())
        )
        try:
            with transaction.atomic():
                connection = connection_grant(
                    user=self.request.user, application=application, scopes=granted, accounts=data["accounts"]
                )
                credentials["connection"] = connection
                return self._authorize(application, credentials, scopes=granted, allow=True)
        except ValidationFailed as exc:
            form.add_error(None, exc.message)
            self.oauth2_data = {
                "scopes": requested["scope"],
                "application": application,
                "redirect_uri": requested.get("redirect_uri", ""),
            }
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
    """The client id a token request names, in its body or its Basic credentials (not yet checked)."""
    if request.POST.get("client_id"):
        return request.POST["client_id"][:255]
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return unquote_plus(decoded.partition(":")[0])[:255]


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
            with transaction.atomic():
                response = super().post(request, *args, **kwargs)
        if client_id and response.status_code != 401:
            per_client.hit(client_id)  # only a client that authenticated spends its own budget
        if response.status_code >= 400:
            self._audit_refusal(request, client_id, response)
        return response

    @staticmethod
    def _audit_refusal(request: HttpRequest, client_id: str, response: HttpResponse) -> None:
        application = Application.objects.filter(client_id=client_id).first() if client_id else None
        if application is None:
            return  # garbage from nobody the bank knows: the rate limit is the answer, not the audit log
        try:
            error = str(json.loads(response.content).get("error", ""))[:40]
        except ValueError:
            error = ""
        if not cache.add(f"token-refused:{application.pk}:{error}", True, timeout=60):
            return
        audit_record(
            action=AuditAction.TOKEN_REFUSED,
            actor=None,
            actor_type=ActorType.APP,
            application=application,
            data={
                "grant_type": request.POST.get("grant_type", "")[:40],
                "error": error,
                "status": response.status_code,
            },
        )


@method_decorator(csrf_exempt, name="dispatch")
class BankIntrospectTokenView(View):
    """RFC 7662 token introspection, for resource servers only: the client must authenticate with its
    secret and be one that staff allowed the `introspection` scope. The toolkit's answer is given
    to those; every other caller learns nothing."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            # A customer's token, however valid, never carries the introspection scope.
            return oauth_error(403, "insufficient_scope", "Introspection needs a resource server's client credentials.")
        client = authenticated_client(request)
        if client is None:
            return oauth_error(
                401,
                "invalid_client",
                "Authenticate as a resource server with its client id and secret.",
                **{"WWW-Authenticate": 'Basic realm="introspection"'},
            )
        if scope_table.INTROSPECTION not in client.allowed_scopes.split():
            return oauth_error(403, "insufficient_scope", "This client may not introspect tokens.")
        response: HttpResponse = IntrospectTokenView.get_token_response(request.POST.get("token"))
        response["Cache-Control"] = "no-store"
        return response


class BankServerMetadataView(OAuthServerMetadataView):
    """RFC 8414 metadata, listing only what the server accepts: introspection takes a resource
    server's client authentication, never a public client's bare id."""

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        data = json.loads(super().get(request, *args, **kwargs).content)
        data["introspection_endpoint_auth_methods_supported"] = ["client_secret_basic", "client_secret_post"]
        response = JsonResponse(data)
        response["Access-Control-Allow-Origin"] = "*"
        return response
