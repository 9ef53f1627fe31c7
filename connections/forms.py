"""Forms of the consent screen, the customer's connection pages and the developers' pages."""

from django import forms
from django.contrib.auth.models import User
from django.http import QueryDict

from bank.core.errors import DomainError, ErrorCode
from bank.models import MonetaryAccount
from bank.selectors import active_accounts_of
from bank.vocabulary import APPLICATION_NAME_MAX

from . import scopes as scope_table
from .models import Application, TokenEndpointAuthMethod, redirect_uri_problems
from .services.applications import DEVELOPER_FIELDS, AppDetails, ClientMetadata


class ConsentForm(forms.Form):
    """What the customer decides on the consent screen: Allow or Deny, the scopes and the accounts as
    checkboxes. Everything about the request itself (client, redirect URI, state, PKCE) travels in
    `requested`, signed when the validated request was shown: nothing posted can redirect elsewhere
    or widen the grant."""

    allow = forms.BooleanField(required=False)
    scope = forms.MultipleChoiceField(choices=[(name, name) for name in scope_table.ALL], required=False)
    accounts = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=[])
    requested = forms.CharField(widget=forms.HiddenInput())

    def offer_accounts(self, accounts: list[MonetaryAccount]) -> None:
        """The customer's accounts that may be shared: the only valid choices."""
        field = self.fields["accounts"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(account.pk, account.description) for account in accounts]


class AccountChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: MonetaryAccount) -> str:
        return f"{obj.description} ({obj.iban})"


class SharedAccountsForm(forms.Form):
    accounts = AccountChoiceField(
        queryset=MonetaryAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Accounts this app may see",
        error_messages={"required": "Choose at least one account, or revoke the connection instead."},
    )

    def __init__(
        self, data: QueryDict | None = None, *, customer: User, initial: dict[str, list[MonetaryAccount]]
    ) -> None:
        super().__init__(data, initial=initial)
        field = self.fields["accounts"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = active_accounts_of(customer=customer)


class ClientMetadataForm(forms.Form):
    """An app's client metadata, with the standard names (RFC 7591, RFC 9449, RFC 9126): for the
    developer at /developers/ and for staff in the review page."""

    token_endpoint_auth_method = forms.ChoiceField(
        label="Token endpoint authentication (token_endpoint_auth_method)",
        choices=TokenEndpointAuthMethod.choices,
        required=False,
        initial=TokenEndpointAuthMethod.CLIENT_SECRET_BASIC,
        help_text="Confidential clients: a secret, or private_key_jwt with your keys below. Public clients: none. "
        "Left out, it follows the client type.",
    )
    jwks = forms.CharField(
        label="Public keys (jwks)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text='Your JSON Web Key Set, public keys only: {"keys": [...]}, each with its own kid; '
        "ES256, PS256 or EdDSA.",
    )
    dpop_bound_access_tokens = forms.BooleanField(
        label="DPoP-bound tokens (dpop_bound_access_tokens)",
        required=False,
        help_text="Every token is bound to your DPoP key; none is issued without a DPoP proof.",
    )
    require_pushed_authorization_requests = forms.BooleanField(
        label="Pushed authorization requests only (require_pushed_authorization_requests)",
        required=False,
        help_text="Your app pushes every authorization request to /o/par/ first.",
    )

    def metadata(self, *, client_type: str) -> ClientMetadata:
        """The metadata as the services take them; a method left out follows the client type."""
        method = self.cleaned_data["token_endpoint_auth_method"]
        return ClientMetadata(
            token_endpoint_auth_method=method or ClientMetadata.default_for(client_type).token_endpoint_auth_method,
            jwks=self.cleaned_data["jwks"],
            dpop_bound_access_tokens=self.cleaned_data["dpop_bound_access_tokens"],
            require_pushed_authorization_requests=self.cleaned_data["require_pushed_authorization_requests"],
        )

    def refused(self, exc: DomainError) -> None:
        """Show a service's refusal on the form. Refused keys are not shown again: a pasted private
        key is neither stored nor sent back to the browser."""
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        if exc.code == ErrorCode.INVALID_JWKS:
            self.data = (
                {**self.data.dict(), "jwks": ""} if isinstance(self.data, QueryDict) else {**self.data, "jwks": ""}
            )


class ApplicationForm(ClientMetadataForm):
    field_order = [
        "name",
        "website",
        "redirect_uris",
        "client_type",
        "logo",
        "token_endpoint_auth_method",
        "jwks",
        "dpop_bound_access_tokens",
        "require_pushed_authorization_requests",
    ]
    name = forms.CharField(max_length=APPLICATION_NAME_MAX, help_text="What customers see on the consent screen.")
    website = forms.URLField(assume_scheme="https", help_text="Where customers can learn who you are.")
    redirect_uris = forms.CharField(
        label="Redirect URIs",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, matched exactly. https, or http only to 127.0.0.1 or localhost with a port.",
    )
    client_type = forms.ChoiceField(
        label="Client type",
        choices=[
            (Application.CLIENT_CONFIDENTIAL, "Confidential: a server that can keep a secret"),
            (Application.CLIENT_PUBLIC, "Public: a mobile or desktop app (PKCE, no secret)"),
        ],
        widget=forms.RadioSelect,
        help_text="A single-page app in the browser connects through its own server (a confidential client): the "
        "bank answers no cross-origin requests, so no token ever lives in a browser.",
    )
    logo = forms.FileField(
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text="PNG, JPEG or WebP, at most 512 KB; square works best. The bank resizes it and serves it itself.",
    )

    def clean_redirect_uris(self) -> str:
        uris = self.cleaned_data["redirect_uris"].split()
        if not uris:
            raise forms.ValidationError("Give at least one redirect URI.")
        problems = redirect_uri_problems(uris)
        if problems:
            raise forms.ValidationError(problems)  # with the form's other errors, all at once
        return " ".join(uris)

    def details(self) -> AppDetails:
        """The application's details as the services take them."""
        data = self.cleaned_data
        upload = data.get("logo")
        return AppDetails(
            **{field: data[field] for field in DEVELOPER_FIELDS},
            logo_upload=upload.read() if upload else None,
            metadata=self.metadata(client_type=data["client_type"]),
        )

    def logo_cleared(self) -> bool:
        return self.cleaned_data.get("logo") is False  # the widget's "Clear" box


class ScopeRequestForm(forms.Form):
    """A developer asks staff for permissions their app may not ask customers for yet."""

    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Permissions to ask for",
        error_messages={"required": "Tick at least one permission."},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        label="Why your app needs them (staff read this)",
        error_messages={"required": "Say why your app needs them: staff decide with the reason."},
    )

    def __init__(self, data: QueryDict | None = None, *, application: Application) -> None:
        super().__init__(data)
        field = self.fields["scopes"]
        assert isinstance(field, forms.MultipleChoiceField)
        allowed = set(application.allowed_scope_list())
        field.choices = [(s.name, f"{s.name}: {s.sentence}") for s in scope_table.SCOPES if s.name not in allowed]
