import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from loyalty.services import purchases_import


class Command(BaseCommand):
    help = (
        "Import purchase history from CSV (columns: customer_id or customer_email, order_id, occurred_at, "
        "amount, optional currency). Creates missing members (customer_id becomes their external id), is "
        "idempotent, reports rejected rows with their line number and goes on."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, header row); - reads standard input")
        parser.add_argument("--no-points", action="store_true",
                            help="record the history for metrics only: no points, no tier changes")
        parser.add_argument("--source", default="", help="order source (default FIDELIO_DEFAULT_SOURCE)")
        parser.add_argument("--chunk-size", type=int, default=100_000, help="rows per transaction")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, file, no_points, source, chunk_size, quiet, **options):
        if file == "-":
            handle, total = sys.stdin, None
        else:
            try:
                handle = open(file, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
            total = os.path.getsize(file)
        bar = tqdm(total=total, unit="B", unit_scale=True, desc="import", disable=quiet, file=sys.stderr)

        def lines():
            for line in handle:
                bar.update(len(line.encode("utf-8")))
                yield line

        try:
            report = purchases_import(lines(), awards_points=not no_points, source=source, chunk_size=chunk_size)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
            if handle is not sys.stdin:
                handle.close()
        for line, reason in report.rejected[:1000]:
            self.stderr.write(f"line {line}: {reason}")
        if report.rejected_count > 1000:
            self.stderr.write(f"… and {report.rejected_count - 1000} more rejected rows")
        self.stdout.write(
            f"{report.rows} rows: {report.created} purchases created, {report.existing} already there, "
            f"{report.rejected_count} rejected; {report.members_created} members created."
        )
