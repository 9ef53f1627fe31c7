"""The OAuth side: the toolkit's models (swapped to carry the bank's policy and the connection)
and the Connection, one customer's authorization of one application."""

import hashlib
import ipaddress
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)

from bank.vocabulary import NOTIFICATION_TARGET_MAX, NotificationCategory

from . import scopes


def default_allowed_scopes() -> str:
    return " ".join(scopes.READ_ONLY)


def is_loopback_http(uri: str) -> bool:
    parts = urlsplit(uri)
    if parts.scheme != "http" or not parts.port:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return False


def redirect_uri_scheme_allowed(uri: str) -> bool:
    """https anywhere; plain http only to a loopback address with a port (RFC 8252 native apps)."""
    return urlsplit(uri).scheme == "https" or is_loopback_http(uri)


def redirect_uri_problems(uris: list[str]) -> list[str]:
    """What is wrong with each redirect URI a developer gives, one message each (the form shows them
    beside its other errors; the model refuses them whatever writes it)."""
    return [
        f"{uri}: redirect URIs must use https, or http only to 127.0.0.1 or localhost with a port."
        for uri in uris
        if not redirect_uri_scheme_allowed(uri)
    ]


class Logo(models.Model):
    """An app's logo as the bank serves it: a PNG that the bank re-encoded from the developer's upload,
    stored under its SHA-256. Served by the bank itself (never hot-linked, so no third party learns
    when a customer opens a page), and cacheable forever since its address is its content."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    png = models.BinaryField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Logo {self.sha256[:12]}"


def _customer(*, nullable: bool) -> "models.ForeignKey[User | None, User | None]":
    """The toolkit's user foreign key, without a reverse accessor on the user (nothing uses one)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=nullable, blank=nullable, related_name="+"
    )


class TokenEndpointAuthMethod(models.TextChoices):
    """How a client authenticates at the token, PAR and revocation endpoints (RFC 7591 names)."""

    CLIENT_SECRET_BASIC = "client_secret_basic", "Client secret in the Authorization header"
    CLIENT_SECRET_POST = "client_secret_post", "Client secret in the request body"
    PRIVATE_KEY_JWT = "private_key_jwt", "A JWT signed with one of its keys (private_key_jwt)"
    NONE = "none", "None: a public client (PKCE only)"


# Set on oauthlib's request while the validator checks a client's credentials (Application.is_usable).
AUTHENTICATING = "bank_authenticating_client"


class Application(AbstractApplication):
    """An OAuth client, with the policy that staff set for it and its client metadata (the standard
    names of RFC 7591, RFC 9449 and RFC 9126)."""

    user = _customer(nullable=True)
    token_endpoint_auth_method = models.CharField(
        max_length=20, choices=TokenEndpointAuthMethod.choices, default=TokenEndpointAuthMethod.CLIENT_SECRET_BASIC
    )
    jwks = models.TextField(blank=True, help_text="The app's public JSON Web Key Set, for private_key_jwt.")
    dpop_bound_access_tokens = models.BooleanField(
        default=False, help_text="Tokens are bound to a DPoP key: none is issued without a DPoP proof."
    )
    require_pushed_authorization_requests = models.BooleanField(
        default=False, help_text="Authorization requests must be pushed to /o/par/ first."
    )
    allowed_scopes = models.TextField(
        default=default_allowed_scopes,
        help_text="Space-separated scopes this application may ask for. New applications get the read-only ones.",
    )
    verified = models.BooleanField(default=False, help_text="The bank has checked who the developer is.")
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_requested_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Waiting for the bank's review since then: registered, or changed since it was reviewed.",
    )
    developer_name = models.CharField(max_length=140, blank=True)
    website = models.URLField(blank=True)
    logo = models.ForeignKey(Logo, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # After a rotation with an overlap, the previous client secret (hashed) keeps working until then.
    previous_client_secret = models.CharField(max_length=255, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=200, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Its developer deleted it: it is kept for the history."
    )
    signing_secret = models.TextField(
        blank=True, help_text="The callbacks' signing secret (whsec_…), encrypted with the bank's SECRET_KEY."
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        constraints = [
            # The consent screen is never skipped, whatever an admin form might allow.
            models.CheckConstraint(condition=Q(skip_authorization=False), name="application_never_skips_consent"),
        ]

    def allowed_scope_list(self) -> list[str]:
        return scopes.ordered(self.allowed_scopes.split())

    @property
    def is_fapi(self) -> bool:
        """Held to the FAPI 2.0 profile: private_key_jwt with its keys, DPoP-bound tokens, pushed
        authorization requests."""
        return (
            self.token_endpoint_auth_method == TokenEndpointAuthMethod.PRIVATE_KEY_JWT
            and bool(self.jwks.strip())
            and self.dpop_bound_access_tokens
            and self.require_pushed_authorization_requests
        )

    def is_usable(self, request: object) -> bool:
        """Whether the app may use the OAuth endpoints: never once deleted, and not while suspended.
        While its credentials are being checked a suspended app counts as usable, so that it is told
        why it is refused."""
        if self.deleted_at is not None:
            return False
        return self.suspended_at is None or bool(getattr(request, AUTHENTICATING, False))

    def get_allowed_schemes(self) -> list[str]:
        return ["https", "http"]

    def redirect_uri_allowed(self, uri: str) -> bool:
        """Exact string match against a registered URI: no other path, query or port, loopback
        included (the toolkit would let a loopback URI take any port)."""
        return redirect_uri_scheme_allowed(uri) and uri in self.redirect_uris.split()

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            super().clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        problems = redirect_uri_problems(self.redirect_uris.split())
        if problems:
            errors.setdefault("redirect_uris", []).extend(problems)
        unknown = set(self.allowed_scopes.split()) - set(scopes.ALL) - {scopes.INTROSPECTION}
        if unknown:
            errors["allowed_scopes"] = [f"Unknown scopes: {', '.join(sorted(unknown))}"]
        if errors:
            raise ValidationError(errors)


class AwaitingReview(Application):
    """The applications waiting for the bank's review (staff's queue): new, changed since their
    review, or with a scope request pending."""

    class Meta:
        proxy = True
        verbose_name = "application awaiting review"
        verbose_name_plural = "review queue"


class ScopeRequestStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting for staff"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class ScopeRequest(models.Model):
    """Scopes that someone wants an application to be allowed: its developer (with a reason) or a
    member of staff. Staff decide. A money-moving scope needs two different members of staff: the
    first approval (or a staff proposal) endorses it, a second one applies it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="scope_requests")
    scopes = models.TextField(help_text="Space-separated scopes to allow in addition to the current ones.")
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=ScopeRequestStatus.choices, default=ScopeRequestStatus.PENDING)
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    endorsed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.application}: {self.scopes} ({self.get_status_display()})"

    @property
    def scope_list(self) -> list[str]:
        return scopes.ordered(self.scopes.split())

    @property
    def moves_money(self) -> bool:
        return bool(set(self.scope_list) & scopes.MONEY_MOVING)


class PushedRequest(models.Model):
    """An authorization request pushed to /o/par/ (RFC 9126): validated when pushed, used at most once,
    by its client only, within a minute. Only the SHA-256 of its request_uri is stored."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    reference = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the request_uri.")
    parameters = models.JSONField()
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="pushed_request_expiry")]

    def __str__(self) -> str:
        return f"Pushed request {self.pk} of {self.application_id}"


class RevokedBy(models.TextChoices):
    CUSTOMER = "customer", "You"
    STAFF = "staff", "The bank's staff"
    REPLACED = "replaced", "Replaced by a newer consent"
    APP_SUSPENDED = "app_suspended", "The bank suspended the app"
    CODE_REPLAY = "code_replay", "Security: an authorization code was used twice"
    APP = "app", "The app itself"
    EXPIRED = "expired", "It reached the end of its lifetime"
    REFRESH_REPLAY = "refresh_replay", "Security: a used refresh key was presented again"
    APP_DELETED = "app_deleted", "The app's developer deleted the app"


# Why a connection ended, as its app's developer reads it in an OAuth error_description.
ENDED_FOR_DEVELOPERS = {
    RevokedBy.CUSTOMER: "the customer revoked it",
    RevokedBy.STAFF: "the bank's staff revoked it",
    RevokedBy.REPLACED: "the customer connected the app again, which replaced it",
    RevokedBy.APP_SUSPENDED: "the bank suspended the app",
    RevokedBy.CODE_REPLAY: "an authorization code of it was redeemed twice",
    RevokedBy.APP: "the app revoked it",
    RevokedBy.EXPIRED: "it reached the end of its lifetime",
    RevokedBy.REFRESH_REPLAY: "an already used refresh token of it was presented again",
    RevokedBy.APP_DELETED: "the app was deleted",
}


class ConnectionQuerySet(models.QuerySet["Connection"]):
    def active(self) -> "ConnectionQuerySet":
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class Connection(models.Model):
    """One customer's authorization of one application: what it may do, on which accounts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="connections")
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.PROTECT, related_name="connections"
    )
    scope = models.TextField(help_text="Space-separated scopes that the customer granted.")
    accounts = models.ManyToManyField("bank.MonetaryAccount", related_name="connections", blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expiry_reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer was told that it ends soon."
    )
    revoked_by = models.CharField(max_length=16, choices=RevokedBy.choices, blank=True)
    revoked_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ConnectionQuerySet.as_manager()

    # The ids of the accounts it shares that are still the customer's own, when read for this
    # request (connections.selectors.shared_account_ids); never stored, never kept across requests.
    shared_ids: frozenset[int] | None = None

    # Recording "last used" at most this often keeps a write off almost every API request.
    LAST_USED_RESOLUTION = timedelta(minutes=1)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "application"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_connection_per_customer_and_app",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.application}"

    def ended_description(self) -> str:
        """Why this connection no longer works, for its app's developer (an error_description)."""
        if self.revoked_at is None:
            return f"This connection reached the end of its lifetime on {self.expires_at:%Y-%m-%d %H:%M} UTC."
        why = ENDED_FOR_DEVELOPERS.get(RevokedBy(self.revoked_by), "it was ended") if self.revoked_by else "it ended"
        return (
            f"This connection ended on {self.revoked_at:%Y-%m-%d %H:%M} UTC: {why}. Ask the customer to connect again."
        )

    @property
    def scope_list(self) -> list[str]:
        return scopes.ordered(self.scope.split())

    @property
    def granted(self) -> list[scopes.Scope]:
        """The granted scopes with their sentences, for the customer's pages."""
        return scopes.describe(self.scope_list)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired

    @property
    def status_label(self) -> str:
        if self.is_revoked and self.revoked_by != RevokedBy.EXPIRED:
            return "Revoked"
        return "Expired" if self.is_expired or self.is_revoked else "Active"


class HashedCodeField(models.CharField):
    """An authorization code kept as its SHA-256. Every lookup by a raw code is hashed the same way,
    so the toolkit's own queries (`Grant.objects.get(code=code)`) work unchanged, and the database
    never holds a code that could be redeemed. Hashing is idempotent: a stored value passes as is."""

    PREFIX = "sha256$"

    def get_prep_value(self, value: object) -> str | None:
        prepared = super().get_prep_value(value)
        if prepared is None:
            return None
        code = str(prepared)
        if code.startswith(self.PREFIX):
            return code
        return self.PREFIX + hashlib.sha256(code.encode("utf-8")).hexdigest()


def _its_connection() -> "models.ForeignKey[Connection | None, Connection | None]":
    """The connection a code or token was issued for. A token without one is refused by the API."""
    return models.ForeignKey(Connection, on_delete=models.CASCADE, null=True, blank=True, related_name="+")


class Grant(AbstractGrant):
    """An authorization code. Kept (not deleted) after its one use so that a replay can be detected."""

    user = _customer(nullable=False)
    dpop_jkt = models.CharField(
        max_length=64, blank=True, help_text="Bound to this DPoP key's thumbprint: redeemed only with a proof of it."
    )
    code = HashedCodeField(max_length=255, unique=True)
    connection = _its_connection()
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"


class AccessToken(AbstractAccessToken):
    user = _customer(nullable=True)
    dpop_jkt = models.CharField(max_length=64, blank=True, help_text="DPoP-bound: the thumbprint of its key.")
    connection = _its_connection()

    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"


class RefreshToken(AbstractRefreshToken):
    user = _customer(nullable=False)
    dpop_jkt = models.CharField(max_length=64, blank=True, help_text="A refresh must prove this DPoP key.")
    connection = _its_connection()

    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"


class IDToken(AbstractIDToken):
    user = _customer(nullable=True)

    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"


class NotificationFilter(models.Model):
    """An app's wish to be called at `notification_target` when something of `category` changes for
    this connection's customer (SPEC §9). Disabled by the bank when its target fails for days."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="notification_filters")
    category = models.CharField(max_length=16, choices=NotificationCategory.choices)
    notification_target = models.URLField(max_length=NOTIFICATION_TARGET_MAX)
    created = models.DateTimeField(default=timezone.now)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="Its target's first failure in a row.")
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "category", "notification_target"], name="notification_filter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.notification_target}"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"  # not sent yet, or waiting for its next try
    DELIVERED = "DELIVERED"
    FAILED = "FAILED", "Failed"  # given up after more than a day of tries
    CANCELLED = "CANCELLED", "Cancelled"  # not sent: the connection ended first


class Delivery(models.Model):
    """One callback of one event to one filter's target. Its id is the `webhook-id`: the same on every
    retry, so the app can drop a duplicate. Sent at least once: a worker leases it while sending, and
    a lease that runs out (the worker died) makes it due again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey("bank.Event", on_delete=models.PROTECT, related_name="+")
    notification_filter = models.ForeignKey(NotificationFilter, on_delete=models.CASCADE, related_name="deliveries")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    target = models.URLField(max_length=NOTIFICATION_TARGET_MAX)
    status = models.CharField(max_length=9, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["event", "notification_filter"], name="one_delivery_per_event_and_filter")
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="PENDING"), name="delivery_due"),
            models.Index(fields=["application", "-created"], name="delivery_of_application"),
        ]

    def __str__(self) -> str:
        return f"{self.id} → {self.target}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"
