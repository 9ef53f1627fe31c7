"""The review queue: applications waiting for the bank's review (new, changed since they were
reviewed, or with a scope request), and the review page, where staff decide whether the app is
verified and which scopes it may ask for, each scope shown with its sentence and whether it moves
money, and approve or reject scope requests (money needs two different members of staff)."""

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from bank.core.admin import admin_link
from bank.core.errors import DomainError
from bank.core.http import signed_in_user
from bank.vocabulary import REASON_MAX
from connections import scopes as scope_table
from connections.forms import ClientMetadataForm
from connections.models import Application, AwaitingReview, ScopeRequest, ScopeRequestStatus
from connections.services.applications import ClientMetadata
from connections.services.vetting import (
    application_metadata_set,
    application_review,
    scope_request_approve,
    scope_request_reject,
)

SCOPE_CHOICES = [(scope.name, scope.name) for scope in scope_table.SCOPES] + [
    (scope_table.INTROSPECTION, scope_table.INTROSPECTION)
]


class ReviewForm(forms.Form):
    verified = forms.BooleanField(
        required=False, label="Verified", help_text="The bank has checked who the developer is."
    )
    allowed_scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2}))


class MetadataForm(ClientMetadataForm):
    reason = forms.CharField(max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2}))


def redirect_hosts(application: Application) -> str:
    return ", ".join(sorted({urlsplit(uri).netloc for uri in application.redirect_uris.split()}))


@admin.register(AwaitingReview)
class ReviewQueueAdmin(admin.ModelAdmin[AwaitingReview]):
    list_display = ["name", "registered_by", "created", "waiting_since", "hosts", "client_type", "scopes_wanted"]
    list_display_links = ["name"]
    search_fields = ["name", "user__username", "developer_name"]
    list_select_related = ["user"]
    ordering = ["review_requested_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AwaitingReview]:
        waiting = Q(review_requested_at__isnull=False) | Q(scope_requests__status=ScopeRequestStatus.PENDING)
        return super().get_queryset(request).filter(waiting, deleted_at=None).distinct()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AwaitingReview | None = None) -> bool:
        return False

    @admin.display(description="Registered by", ordering="user__username")
    def registered_by(self, application: Application) -> str:
        return admin_link(application.user) if application.user_id else "—"

    @admin.display(description="Waiting since", ordering="review_requested_at")
    def waiting_since(self, application: Application) -> object:
        return application.review_requested_at or "a scope request"

    @admin.display(description="Redirect hosts")
    def hosts(self, application: Application) -> str:
        return redirect_hosts(application)

    @admin.display(description="Scopes asked for")
    def scopes_wanted(self, application: Application) -> str:
        pending = ScopeRequest.objects.filter(application=application, status=ScopeRequestStatus.PENDING)
        return ", ".join(sorted({name for request in pending for name in request.scope_list})) or "—"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        application = Application.objects.select_related("user", "verified_by").get(pk=object_id)
        return review_view(self, request, application)


def review_view(
    modeladmin: admin.ModelAdmin[AwaitingReview], request: HttpRequest, application: Application
) -> HttpResponse:
    """The review page of one application: facts, the policy form, and its pending scope requests."""
    staff = signed_in_user(request)
    review = ReviewForm(
        request.POST if request.POST.get("form") == "review" else None,
        initial={"verified": application.verified, "allowed_scopes": application.allowed_scopes.split()},
    )
    decision = DecisionForm(request.POST if request.POST.get("form") == "decision" else None)
    metadata = MetadataForm(
        request.POST if request.POST.get("form") == "metadata" else None,
        initial=ClientMetadata.of(application).__dict__,
    )
    try:
        if metadata.is_bound and metadata.is_valid():
            application_metadata_set(
                application=application,
                staff=staff,
                metadata=metadata.metadata(client_type=application.client_type),
                reason=metadata.cleaned_data["reason"],
            )
            modeladmin.message_user(request, f"Client metadata of {application.name} recorded.", messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        if review.is_bound and review.is_valid():
            proposal = application_review(
                application=application,
                staff=staff,
                verified=review.cleaned_data["verified"],
                allowed_scopes=review.cleaned_data["allowed_scopes"],
                reason=review.cleaned_data["reason"],
            )
            modeladmin.message_user(request, f"Review of {application.name} recorded.", messages.SUCCESS)
            if proposal is not None:
                modeladmin.message_user(
                    request,
                    f"Allowing {', '.join(proposal.scope_list)} moves money: another member of staff must approve it.",
                    messages.WARNING,
                )
            return HttpResponseRedirect(request.path)
        if decision.is_bound and decision.is_valid():
            scope_request = ScopeRequest.objects.get(pk=decision.cleaned_data["request"], application=application)
            act = scope_request_approve if decision.cleaned_data["decision"] == "approve" else scope_request_reject
            decided = act(request=scope_request, staff=staff, reason=decision.cleaned_data["reason"])
            if decided.status == ScopeRequestStatus.PENDING:
                modeladmin.message_user(
                    request, "Your approval is recorded; a second member of staff must approve too."
                )
            else:
                modeladmin.message_user(
                    request, f"Scope request {decided.get_status_display().lower()}.", messages.SUCCESS
                )
            return HttpResponseRedirect(request.path)
    except DomainError as exc:
        modeladmin.message_user(request, exc.message, messages.ERROR)
        if metadata.is_bound:
            metadata.refused(exc)
    pending = ScopeRequest.objects.filter(application=application, status=ScopeRequestStatus.PENDING).select_related(
        "requested_by", "endorsed_by"
    )
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Review {application.name}",
        "opts": modeladmin.model._meta,
        "application": application,
        "hosts": redirect_hosts(application),
        "owner": admin_link(application.user) if application.user_id else "—",
        "review": review,
        "metadata": metadata,
        "scope_rows": [
            (scope, scope.name in set(review["allowed_scopes"].value() or [])) for scope in scope_table.SCOPES
        ],
        "introspection": scope_table.INTROSPECTION in (review["allowed_scopes"].value() or []),
        "pending": [
            (scope_request, scope_table.describe(scope_request.scope_list), scope_request.endorsed_by_id == staff.pk)
            for scope_request in pending
        ],
        "application_url": reverse("admin:connections_application_change", args=[application.pk]),
        "staff": staff,
        "scope_request_list": format_html(
            '<a href="{}?application__id__exact={}">{}</a>',
            reverse("admin:connections_scoperequest_changelist"),
            application.pk,
            "All scope requests of this app",
        ),
    }
    return TemplateResponse(request, "admin/connections/review.html", context)
