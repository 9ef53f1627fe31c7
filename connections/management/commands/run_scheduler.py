"""The scheduler: relays committed events to the workers several times a second (the outbox's relay,
connections.tasks.outbox_relay), and enqueues the periodic jobs (settings.PERIODIC_JOBS) when due.

Run one or several: each run of a job is claimed by one scheduler with a conditional update in the
database, so none is enqueued twice; an event relayed by two schedulers is prepared once all the
same. `make run` starts one beside the web server and a worker; in production run it as its own
process (docs/deploy.md)."""

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
from connections.tasks import outbox_relay

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
    help = "Relay committed events to the workers and enqueue the periodic jobs when due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Relay and enqueue what is due now, then exit.")
        parser.add_argument(
            "--interval", type=float, default=0.2, help="Seconds between relays and checks (default 0.2)."
        )

    def handle(self, *args: object, **options: object) -> None:
        logger.info("Scheduler started: relaying and checking every %s s", options["interval"])
        while True:
            close_old_connections()
            relayed = outbox_relay()
            if relayed:
                logger.debug("Relayed %d event(s)", relayed)
            for path in jobs_enqueue_due():
                logger.info("Enqueued %s", path)
            if options["once"]:
                return
            time.sleep(float(str(options["interval"])))
