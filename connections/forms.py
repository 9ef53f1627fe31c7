"""Forms of the consent screen, the customer's connection pages and the developers' pages."""

from django import forms
from django.contrib.auth.models import User
from django.http import QueryDict

from bank.models import MonetaryAccount
from bank.selectors import active_accounts_of
from bank.vocabulary import APPLICATION_NAME_MAX

from . import scopes as scope_table
from .models import Application


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


class ApplicationForm(forms.Form):
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
            (Application.CLIENT_PUBLIC, "Public: a mobile or single-page app (PKCE, no secret)"),
        ],
        widget=forms.RadioSelect,
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
        return " ".join(uris)

    def details(self) -> dict[str, str]:
        """The application's details as the services take them (the logo aside)."""
        return {name: self.cleaned_data[name] for name in ("name", "website", "redirect_uris", "client_type")}

    def logo_upload(self) -> bytes | None:
        upload = self.cleaned_data.get("logo")
        return upload.read() if upload else None

    def logo_cleared(self) -> bool:
        return self.cleaned_data.get("logo") is False  # the widget's "Clear" box
