"""The worker's side of the bank: periodic jobs that keep the records tidy and the ledger checked."""

import logging

from django.core.mail import mail_admins
from django.core.management import call_command
from django.tasks import task

from bank.core.audit import audit_record, by_system
from bank.services.drafts import draft_payments_expire_due
from bank.services.idempotency import idempotency_keys_purge
from bank.services.ledger import ledger_problems
from bank.services.passkeys import challenges_prune
from bank.vocabulary import AuditAction

logger = logging.getLogger(__name__)


@task()
def drafts_expire() -> int:
    """Periodic: drafts nobody answered within their lifetime become expired (each with its callback)."""
    return draft_payments_expire_due()


@task()
def passkey_challenges_prune() -> int:
    """Periodic: forget passkey challenges that can no longer be used."""
    return challenges_prune()


@task()
def idempotency_keys_prune() -> int:
    """Periodic: forget Idempotency-Keys older than their retention."""
    return idempotency_keys_purge()


@task()
def ledger_check() -> int:
    """Nightly: verify the whole ledger; on a mismatch, alert the bank's administrators."""
    problems = ledger_problems()
    audit_record(AuditAction.LEDGER_CHECKED, by_system(), data={"problems": len(problems), "first": problems[:10]})
    if problems:
        logger.error("The ledger is inconsistent: %d problem(s): %s", len(problems), "; ".join(problems[:10]))
        mail_admins(
            f"Ledger check: {len(problems)} problem(s)",
            "The nightly ledger check found:\n\n" + "\n".join(problems[:100]),
        )
    return len(problems)


@task()
def task_results_prune() -> None:
    """Daily: forget the worker's finished task results after a week (failed ones after a month)."""
    call_command("prune_db_task_results", min_age_days=7, failed_min_age_days=30, verbosity=0)
