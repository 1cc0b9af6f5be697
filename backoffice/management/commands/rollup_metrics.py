"""Run the metric rollup synchronously: `manage.py rollup_metrics [--as-of YYYY-MM-DD] [--backfill-from YYYY-MM-DD]`."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from backoffice.services import ROLLUP_STEPS, metrics_rollup
from config.periods import local_date


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} expects a date as YYYY-MM-DD, got {value!r}.") from None


class Command(BaseCommand):
    help = "Compute metric snapshots, cohorts, RFM and CLV scores as of a day (default: today, program time)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Compute as if on this day (YYYY-MM-DD); default today.")
        parser.add_argument("--backfill-from", help="Also fill every period from this day (YYYY-MM-DD).")

    def handle(self, *args, **options):
        as_of = (_day(options["as_of"], "--as-of") if options["as_of"]
                 else local_date())
        backfill = _day(options["backfill_from"], "--backfill-from") if options["backfill_from"] else None
        if backfill and backfill > as_of:
            raise CommandError("--backfill-from must not be after --as-of.")
        with tqdm(total=ROLLUP_STEPS, desc=f"rollup {as_of}", unit="step", file=self.stderr._out) as bar:
            def step(name: str) -> None:
                bar.set_postfix_str(name)
                bar.update(1)

            result = metrics_rollup(as_of=as_of, backfill_from=backfill, progress=step)
        self.stdout.write(f"as of {result.as_of}: {result.snapshots} snapshots, {result.cohort_cells} cohort cells, "
                          f"{result.member_scores} member scores, CLV {result.clv} ({result.seconds} s)")
