"""Enqueue the periodic jobs (settings.PERIODIC_JOBS) when they are due; the workers run them.

Run one or several (they agree through the database: each run of a job is claimed by one scheduler
with a conditional update, so none is enqueued twice). `make run` starts one beside the web server
and a worker; in production run it as its own process (docs/deploy.md)."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import IntegrityError, close_old_connections, transaction
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string

from bank.models import PeriodicJob

logger = logging.getLogger(__name__)


def job_claim(name: str, every: timedelta) -> bool:
    """Whether this scheduler starts `name` now (it was never started, or not within `every`)."""
    now = timezone.now()
    if PeriodicJob.objects.filter(name=name, last_started_at__lte=now - every).update(last_started_at=now):
        return True
    try:
        with transaction.atomic():
            PeriodicJob.objects.create(name=name, last_started_at=now)
    except IntegrityError:
        return False  # it exists, and ran recently (or another scheduler just created it)
    return True


def jobs_enqueue_due() -> list[str]:
    started = []
    for path, every in settings.PERIODIC_JOBS.items():
        if job_claim(path, every):
            job: Task = import_string(path)
            job.enqueue()
            started.append(path)
    return started


class Command(BaseCommand):
    help = "Enqueue the periodic jobs when they are due (run beside the workers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Enqueue what is due now, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between checks (default 1).")

    def handle(self, *args: object, **options: object) -> None:
        while True:
            close_old_connections()
            for path in jobs_enqueue_due():
                logger.info("Enqueued %s", path)
            if options["once"]:
                return
            time.sleep(float(str(options["interval"])))
