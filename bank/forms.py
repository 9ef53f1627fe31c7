"""Forms of the customer's own pages."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import User
from django.http import QueryDict

from .core.errors import DomainError
from .models import MonetaryAccount
from .selectors import active_accounts_of
from .services.security import password_change, password_confirm
from .vocabulary import REASON_MAX


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX,
        required=False,
        error_messages={"max_length": f"A reason has at most {REASON_MAX} characters."},
    )


class PayForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=MonetaryAccount.objects.none(),
        error_messages={
            "required": "Choose one of your accounts to pay from.",
            "invalid_choice": "Choose one of your accounts to pay from.",
        },
    )
    password = forms.CharField(strip=False, required=False)  # a customer with a passkey uses it instead

    def __init__(self, data: QueryDict | None = None, *, customer: User) -> None:
        super().__init__(data)
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = active_accounts_of(customer=customer)


def form_errors(form: forms.Form) -> str:
    """Every error of a form in one sentence, for a page that shows it as a message."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


class BankPasswordChangeForm(PasswordChangeForm):
    """Django's form, with the old password checked under the same guess budget as the payment
    step-up (and audited), and the change made by the security service."""

    def clean_old_password(self) -> str:
        old_password: str = self.cleaned_data["old_password"]
        try:
            password_confirm(
                customer=self.user,
                password=old_password,
                purpose="password_change",
                act="changing your password",
                unchanged="your password is unchanged",
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        return old_password

    def save(self, commit: bool = True) -> User:
        password_change(customer=self.user, new_password=self.cleaned_data["new_password1"])
        return self.user
