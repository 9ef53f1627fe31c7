"""The authorization server's pages and endpoints, on the toolkit's own views.

The consent screen (`BankAuthorizationView`) closes three gaps of the toolkit's AuthorizationView:
a client's `approval_prompt=auto` cannot skip it; a posted scope can only narrow the grant (the
originally requested scopes travel in a signed field, not a plain hidden one); and the customer
chooses the accounts the app will see, which become the Connection.
"""

import json

from django import forms
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.views import AuthorizationView, TokenView

from bank.core.audit import audit_record
from bank.core.errors import ValidationFailed
from bank.core.http import AuthenticatedHttpRequest
from bank.models import MonetaryAccount
from bank.selectors import active_accounts_of
from bank.vocabulary import ActorType, AuditAction
from connections import scopes as scope_table
from connections.forms import ConsentForm
from connections.models import Application, Connection
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
        initial["requested"] = signing.dumps(
            {"client_id": initial["client_id"], "user": self.request.user.pk, "scope": requested},
            salt=CONSENT_SALT,
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
        return context

    def redirect(self, redirect_to: str, application: Application | None) -> HttpResponse:
        schemes = application.get_allowed_schemes() if application is not None else ["https"]
        return SeeOtherRedirect(redirect_to, schemes)

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
        if requested["client_id"] != data["client_id"] or requested["user"] != self.request.user.pk:
            return self.form_invalid(form)
        application = Application.objects.get(client_id=data["client_id"])
        credentials: Credentials = {key: data[key] for key in CREDENTIAL_FIELDS if data.get(key)}
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
            self.oauth2_data = {"scopes": requested["scope"], "application": application}
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


class BankTokenView(TokenView):
    """The toolkit's token endpoint, with refusals written to the audit log (never a credential)."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        if response.status_code >= 400:
            try:
                error = json.loads(response.content).get("error", "")
            except ValueError:
                error = ""
            application = Application.objects.filter(client_id=request.POST.get("client_id", "")).first()
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
        return response
