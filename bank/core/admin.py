"""Admin helpers that the bank's and the connections' staff pages share: a confirmation page with a
reason before anything dangerous, links between related records, an autocomplete list filter, and
read-only model admins. Built on the admin's own machinery (actions with intermediate pages, its
autocomplete view and widget)."""

from collections.abc import Callable, Iterable
from datetime import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django_stubs_ext import StrOrPromise

from bank.vocabulary import REASON_MAX

from .errors import DomainError
from .http import signed_in_user


class ReadOnlyAdminMixin:
    """Staff read these rows; what they may change, they change through actions that call services."""

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


def stamp(moment: datetime | None) -> str:
    """A time as staff read it everywhere in the console: to the second, in the bank's time zone, with
    the zone written out."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment is not None else "—"


def admin_link(obj: models.Model | None, text: str | None = None) -> str:
    """A link to an object's admin page, or a dash."""
    if obj is None:
        return "—"
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else str(obj))


def changelist_link(model: type[models.Model], text: str, **filters: object) -> SafeString:
    """A link to a model's list in the admin, filtered."""
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), text)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit log with your name.",
    )


def confirmed_action[M: models.Model](
    modeladmin: admin.ModelAdmin[M],
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    title: str,
    consequences: Iterable[str],
    perform: Callable[[M, str], str],
    action: str | None = None,
) -> HttpResponse | None:
    """An intermediate page before a dangerous act: what will happen, to which objects, and a reason.
    On confirmation, `perform(obj, reason)` runs for each object (one service call each) and
    returns what it did; a refusal of one object is shown and the others go on. `action` names
    the changelist action that posts here; without it, the page posts to itself."""
    form = ReasonForm(request.POST if request.POST.get("confirmed") == "yes" else None)
    if form.is_bound and form.is_valid():
        reason = form.cleaned_data["reason"]
        for obj in queryset:
            try:
                done = perform(obj, reason)
            except DomainError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
            else:
                modeladmin.message_user(request, done, messages.SUCCESS)
        if action is None:
            return HttpResponseRedirect(request.path)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": list(queryset),
        "consequences": list(consequences),
        "form": form,
        "action": action,
        "selected": [str(obj.pk) for obj in queryset],
        "opts": modeladmin.model._meta,
        "staff": signed_in_user(request),
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)


class AutocompleteListFilter(admin.RelatedFieldListFilter):
    """Filter by a related object that staff find by typing (the admin's own autocomplete), instead of
    a list of every customer. The list's model admin must add `autocomplete_filter_media`."""

    template = "admin/autocomplete_filter.html"

    def field_choices(
        self, field: models.Field[object, object], request: HttpRequest, model_admin: admin.ModelAdmin[models.Model]
    ) -> list[tuple[str, StrOrPromise]]:
        return []  # nothing listed: the widget asks the server as staff type

    def has_output(self) -> bool:
        return True  # shown (and applied) although it lists no choices

    def __init__(
        self,
        field: models.Field[object, object],
        request: HttpRequest,
        params: dict[str, list[str]],
        model: type[models.Model],
        model_admin: admin.ModelAdmin[models.Model],
        field_path: str,
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        assert isinstance(field, models.ForeignKey)
        widget = AutocompleteSelect(
            field,
            model_admin.admin_site,
            attrs={
                "id": f"filter-{field_path}",
                "data-filter-param": self.lookup_kwarg,
                "aria-label": f"Filter by {field.verbose_name}",
            },
        )
        # The widget lists only the chosen object; the field gives it the queryset to find it in.
        chooser = forms.ModelChoiceField(
            queryset=field.remote_field.model._default_manager.all(), required=False, widget=widget
        )
        value = self.lookup_val[0] if self.lookup_val else None
        self.widget_html = chooser.widget.render(self.lookup_kwarg, value)


def autocomplete_filter_media(model: type[models.Model], field_name: str, site: admin.AdminSite) -> forms.Media:
    """The scripts an `AutocompleteListFilter` needs on its page: the admin's autocomplete widget and
    the bank's few lines that apply the chosen filter."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.ForeignKey)
    return AutocompleteSelect(field, site).media + forms.Media(js=["admin/js/bank_autocomplete_filter.js"])
