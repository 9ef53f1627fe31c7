"""The Idempotency-Keys' retention (the keys themselves are claimed and answered by bank.api.idempotency)."""

from django.conf import settings
from django.utils import timezone

from bank.models import IdempotencyKey


def idempotency_keys_purge() -> int:
    """Forget every key older than its retention (a periodic job); a client reusing one after that
    starts afresh, as it would anyway. Returns how many."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_RETENTION
    deleted, _ = IdempotencyKey.objects.filter(created__lt=cutoff).delete()
    return deleted
