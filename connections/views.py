"""The authorization server's pages and endpoints, on the toolkit's own views.

The consent screen (`BankAuthorizationView`) closes three gaps of the toolkit's AuthorizationView:
a client's `approval_prompt=auto` cannot skip it; a posted scope can only narrow the grant (the
originally requested scopes travel in a signed field, not a plain hidden one); and the customer
chooses the accounts the app will see, which become the Connection.
"""

import json
from typing import Any

from django import forms
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView, TokenView

from bank.errors import ValidationFailed
from bank.selectors import accounts_of
from bank.services.audit import audit_record

from . import scopes as scope_table
from .services import connection_grant

CONSENT_SALT = "connections.consent"
CONSENT_MAX_AGE = 15 * 60


class SeeOtherRedirect(OAuth2ResponseRedirect):
    """Credential-bearing redirects are 303: the browser follows with GET and never re-posts the form."""

    status_code = 303


class ConsentForm(AllowForm):
    scope = forms.MultipleChoiceField(choices=[(name, name) for name in scope_table.ALL], required=False)
    accounts = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=[])
    requested = forms.CharField(widget=forms.HiddenInput())

    def __init__(self, *args: Any, account_choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accounts"].choices = account_choices or []  # type: ignore[attr-defined]


@method_decorator(never_cache, name="dispatch")
class BankAuthorizationView(AuthorizationView):
    template_name = "connections/authorize.html"
    form_class = ConsentForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The customer always sees the screen: a client cannot ask to skip it.
        query = request.GET.copy()
        query.pop("approval_prompt", None)
        request.GET = query  # type: ignore[assignment]
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["account_choices"] = [(a.pk, a.description) for a in self._accounts()]
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        requested = initial["scope"].split()
        initial["scope"] = requested
        initial["accounts"] = [a.pk for a in self._accounts()]
        initial["requested"] = signing.dumps(
            {"client_id": initial["client_id"], "user": self.request.user.pk, "scope": requested},
            salt=CONSENT_SALT,
        )
        return initial

    def _accounts(self) -> list[Any]:
        if not hasattr(self, "_account_cache"):
            self._account_cache = list(accounts_of(self.request.user).filter(status="ACTIVE").order_by("id"))
        return self._account_cache

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["scope_rows"] = scope_table.describe(self.oauth2_data.get("scopes", []))
        context["accounts"] = self._accounts()
        return context

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
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
        application = get_application_model().objects.get(client_id=data["client_id"])
        credentials = {
            key: data[key]
            for key in (
                "client_id",
                "redirect_uri",
                "response_type",
                "state",
                "code_challenge",
                "code_challenge_method",
            )
            if data.get(key)
        }
        if not data.get("allow"):
            audit_record(
                action="oauth.consent_denied",
                actor=self.request.user,
                customer=self.request.user,
                application=application,
                actor_type="customer",
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
        self, application: Any, credentials: dict[str, Any], *, scopes: list[str], allow: bool
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

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        if response.status_code >= 400:
            try:
                error = json.loads(response.content).get("error", "")
            except ValueError:
                error = ""
            application = get_application_model().objects.filter(client_id=request.POST.get("client_id", "")).first()
            audit_record(
                action="oauth.token_refused",
                actor=None,
                actor_type="app",
                application=application,
                data={
                    "grant_type": request.POST.get("grant_type", "")[:40],
                    "error": error,
                    "status": response.status_code,
                },
            )
        return response
