"""Forms for the customer's connection pages and the developers' pages."""

from typing import Any

from django import forms

from bank.models import AccountStatus, MonetaryAccount
from bank.selectors import accounts_of

from .models import Application


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

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["accounts"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = accounts_of(user).filter(status=AccountStatus.ACTIVE).order_by("id")


class ApplicationForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What customers see on the consent screen.")
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
    logo_url = forms.URLField(label="Logo URL", required=False, assume_scheme="https", help_text="https only.")

    def clean_redirect_uris(self) -> str:
        uris = self.cleaned_data["redirect_uris"].split()
        if not uris:
            raise forms.ValidationError("Give at least one redirect URI.")
        return " ".join(uris)

    def clean_logo_url(self) -> str:
        url = self.cleaned_data["logo_url"]
        if url and not url.startswith("https://"):
            raise forms.ValidationError("The logo must be served over https.")
        return url
