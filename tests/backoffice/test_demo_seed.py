"""`manage.py seed_demo` (backoffice.services.demo_seed): the demo program shows every part of the product, in
all five languages, with a points history that holds together, and a second run writes nothing."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from backoffice.models import MetricSnapshot, Newsletter, NewsletterDelivery
from backoffice.services import rollup_default_day
from backoffice.services.demo.replay import _daily_after, _hourly_after
from feedback.models import FeedbackRecord, Review, Survey, SurveyAnswer, SurveyQuestion
from feedback.services import csat_for_period, nps_for_period
from gamification.models import Badge, Challenge, ChallengeParticipation, MemberBadge
from loyalty.models import LedgerEntry, PointsLot
from members.models import Member, Tier
from rewards.models import Reward, Voucher

pytestmark = pytest.mark.django_db

CUSTOMER = "customer@demo.fidelio.test"
OTHER_LANGUAGES = ("pl", "cs", "ru", "el")


@dataclass
class Demo:
    output: str
    mails: list  # what the seed sent (locmem), captured before each test's mailbox is cleared
    customer: Member


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Seeded once for the module inside a transaction rolled back at the end (each test's own changes are
    rolled back by its savepoint as usual)."""
    with django_db_blocker.unblock(), transaction.atomic():
        mail.outbox = []
        out = io.StringIO()
        call_command("seed_demo", "--force", stdout=out)
        yield Demo(output=out.getvalue(), mails=list(mail.outbox), customer=Member.objects.get(user__email=CUSTOMER))
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------------------------ content
def test_challenges_are_running_with_progress_for_the_customer_and_others(demo):
    now = timezone.now()
    running = Challenge.objects.filter(is_active=True, starts_at__lte=now, ends_at__gt=now)
    assert running.count() >= 5
    progressing = ChallengeParticipation.objects.filter(challenge__in=running, progress__gt=0)
    mine = progressing.filter(member=demo.customer)
    assert mine.count() >= 3
    assert mine.filter(completed_at__isnull=True).exists()  # something left to do
    assert mine.filter(completed_at__isnull=False).exists()  # and something done, with its badge
    assert MemberBadge.objects.filter(member=demo.customer).exists()
    assert progressing.exclude(member=demo.customer).values("member").distinct().count() >= 10
    assert Challenge.objects.filter(enrolment=Challenge.Enrolment.OPT_IN, participations__isnull=False).exists()


def test_an_open_survey_has_nps_and_csat_answers_from_several_members(demo):
    open_surveys = Survey.objects.filter(trigger=Survey.Trigger.ALWAYS_OPEN, is_active=True)
    assert open_surveys.count() >= 1
    for kind in (SurveyQuestion.Kind.NPS, SurveyQuestion.Kind.CSAT):
        answers = SurveyAnswer.objects.filter(kind=kind, question__survey__in=open_surveys, score__isnull=False)
        assert answers.values("response__member").distinct().count() >= 8
    month = (timezone.now() - timedelta(days=30), timezone.now())
    assert nps_for_period(start=month[0], end=month[1])["nps"] is not None
    assert csat_for_period(start=month[0], end=month[1])["csat"] is not None
    # The customer answered one survey and has another one to try.
    answered = set(open_surveys.filter(responses__member=demo.customer).values_list("pk", flat=True))
    assert answered and set(open_surveys.values_list("pk", flat=True)) - answered


def test_reviews_are_approved_and_waiting_for_moderation(demo):
    statuses = set(Review.objects.values_list("status", flat=True))
    assert {Review.Status.APPROVED, Review.Status.PENDING} <= statuses
    assert Review.objects.filter(status=Review.Status.APPROVED).count() >= 3
    assert set(Review.objects.filter(member=demo.customer).values_list("status", flat=True)) == {
        Review.Status.APPROVED, Review.Status.PENDING}


def test_support_feedback_is_in_several_states_some_overdue(demo):
    records = list(FeedbackRecord.objects.all())
    statuses = {r.status for r in records}
    assert {FeedbackRecord.Status.OPEN, FeedbackRecord.Status.IN_PROGRESS, FeedbackRecord.Status.RESOLVED} <= statuses
    overdue = [r for r in records if r.is_overdue]
    assert overdue and any(r.status == FeedbackRecord.Status.IN_PROGRESS for r in overdue)
    assert any(r.status == FeedbackRecord.Status.OPEN and not r.is_overdue for r in records)
    assert all(r.resolved_at and r.resolution_note for r in records if r.status == FeedbackRecord.Status.RESOLVED)
    assert FeedbackRecord.objects.filter(member=demo.customer).count() >= 2


def test_a_newsletter_was_sent_in_each_members_language(demo):
    newsletter = Newsletter.objects.get()
    assert newsletter.status == Newsletter.Status.SENT and newsletter.sent_at is not None
    deliveries = NewsletterDelivery.objects.filter(newsletter=newsletter)
    assert deliveries.count() >= 5 and not deliveries.exclude(status=NewsletterDelivery.Status.SENT).exists()
    assert len(demo.mails) == deliveries.count()
    subjects = {m.to[0]: m.subject for m in demo.mails}
    polish = Member.objects.filter(language="pl", marketing_consent=True).first()
    assert subjects[polish.email].endswith("Twoje punkty i nasze nowe espresso")
    greek = Member.objects.filter(language="el", marketing_consent=True).first()
    assert "οι πόντοι σας" in subjects[greek.email]
    assert subjects[CUSTOMER] == "Alex, your points and our new espresso"


@pytest.mark.parametrize(("model", "fields"), [
    (Reward, ("name", "description")), (Tier, ("name", "benefits")), (Challenge, ("title", "description")),
    (Badge, ("name", "description")), (Survey, ("title", "intro")), (SurveyQuestion, ("text",)),
    (Newsletter, ("subject", "body_markdown")),
])
def test_staff_texts_are_written_in_every_language(demo, model, fields):
    rows = list(model.objects.all())
    assert rows
    for row in rows:
        for field in fields:
            english = getattr(row, f"{field}_en")
            for code in OTHER_LANGUAGES:
                text = getattr(row, f"{field}_{code}")
                assert text and text.strip(), f"{model.__name__} {english!r}: no {field}_{code}"
                if len(english) > 12:  # a translation, not the English copied ("Critic" may read alike)
                    assert text != english, f"{model.__name__} {english!r}: {field}_{code} is the English"
    if model in (Reward, Tier):
        for code in OTHER_LANGUAGES:  # names members tell apart, in each language
            names = [getattr(row, f"name_{code}") for row in rows]
            assert len(set(names)) == len(names)


def test_a_metric_rollup_of_yesterday_is_there(demo):
    day = rollup_default_day(now=timezone.now())
    snapshots = MetricSnapshot.objects.filter(as_of=day)
    assert snapshots.filter(period=MetricSnapshot.Period.ALL).exists()
    assert snapshots.filter(period=MetricSnapshot.Period.DAY).count() > 1


def test_the_customer_sees_a_full_portal(demo, client):
    client.force_login(demo.customer.user)
    client.cookies["django_language"] = "en"

    def page(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, url
        return re.sub(r"\s+", " ", response.content.decode())

    assert "expired" in page("/points/")
    challenges = page("/challenges/")
    assert "Five coffee runs" in challenges and "Spend 150 € this season" in challenges
    assert "How are we doing?" in page("/surveys/")
    assert "My everyday espresso" in page("/reviews/")
    assert "Can I use two vouchers on one order?" in page("/feedback/")
    assert Voucher.objects.filter(member=demo.customer).count() >= 2 and "Free shipping" in page("/vouchers/")
    client.cookies["django_language"] = "pl"
    assert "Pięć razy po kawę" in page("/challenges/")
    assert "Darmowa dostawa" in page("/rewards/")


# --------------------------------------------------------------------------------- a history that holds
def test_no_points_expire_before_they_were_earned(demo):
    """The bug this seed had: it posted sixteen months of purchases "now", so purchases older than the expiry
    period earned lots whose expiry date (counted from the purchase) had already passed: "points from 1 Dec
    expired on 10 Nov"."""
    lots = PointsLot.objects.select_related("entry")
    assert not [lot.pk for lot in lots if lot.expires_at is not None and lot.expires_at < lot.entry.created_at]
    assert not [lot.pk for lot in lots if lot.created_at != lot.entry.created_at]
    expired = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.EXPIRE)
    assert expired.filter(member=demo.customer).exists()  # the demo shows expiry, the right way round
    by_lot = {f"lot:{lot.pk}": lot for lot in lots}
    for entry in expired:
        lot = by_lot[entry.reference]
        assert entry.created_at >= lot.expires_at >= lot.entry.created_at, entry.description
        assert entry.created_at - lot.expires_at < timedelta(days=2)  # the daily job's first run after the date


def test_every_members_history_adds_up_in_date_order(demo, capsys):
    """Entries were written in the order of their dates: each balance_after is the sum of what came before."""
    for member_id, entries in groupby(LedgerEntry.objects.order_by("member_id", "created_at", "pk"),
                                      key=lambda e: e.member_id):
        total = 0
        for entry in entries:
            total += entry.points
            assert entry.balance_after == total, (member_id, entry.pk, entry.kind, entry.created_at)
    assert LedgerEntry.objects.filter(created_at__lt=timezone.now() - timedelta(days=365)).exists()
    call_command("check_ledger")
    assert "consistent" in capsys.readouterr().out


def test_the_customers_tier_is_held_into_the_future(demo):
    customer = Member.objects.select_related("tier").get(pk=demo.customer.pk)
    assert customer.tier.rank > 1 and customer.tier_period_end > timezone.now()
    assert customer.pending_points > 0  # recent purchases still inside their return window


def test_job_runs_are_the_first_after_a_moment():
    moment = datetime(2026, 3, 28, 23, 45, tzinfo=UTC)  # 00:45 in Berlin, the night summer time starts
    assert _hourly_after(moment, minute=5) == datetime(2026, 3, 29, 0, 5, tzinfo=UTC)
    assert _hourly_after(moment.replace(minute=5), minute=5) == moment.replace(minute=5)
    if settings.FIDELIO_TIME_ZONE == "Europe/Berlin":
        # 00:30 Berlin the next night is already summer time (UTC+2).
        assert _daily_after(moment, hour=0, minute=30) == datetime(2026, 3, 29, 22, 30, tzinfo=UTC)
        assert _daily_after(datetime(2026, 3, 28, 23, 15, tzinfo=UTC), hour=0, minute=30) == datetime(
            2026, 3, 28, 23, 30, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ idempotency
def _table_state() -> dict[str, tuple[int, int | None]]:
    return {model._meta.label: (model._default_manager.count(),
                                model._default_manager.aggregate(top=Max("pk"))["top"])
            for model in apps.get_models() if model._meta.managed and not model._meta.proxy}


def test_a_second_run_writes_nothing(demo):
    before = _table_state()
    writes: list[tuple[str, int]] = []

    def watch(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", sql, re.IGNORECASE):
            writes.append((sql[:120], context["cursor"].rowcount))
        return result

    out = io.StringIO()
    with connection.execute_wrapper(watch):
        call_command("seed_demo", "--force", stdout=out)
    assert CUSTOMER in out.getvalue()
    assert _table_state() == before
    assert [w for w in writes if w[1] != 0] == []  # not even an UPDATE to the same values


def test_no_demo_mail_leaves_through_another_backend(demo, settings):
    """With SMTP (or the files the smoke test reads) the newsletter stays a draft: no mail to made-up addresses."""
    Newsletter.objects.all().delete()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    out = io.StringIO()
    call_command("seed_demo", "--force", stdout=out)
    newsletter = Newsletter.objects.get()
    assert newsletter.status == Newsletter.Status.DRAFT and not newsletter.deliveries.exists()
    assert mail.outbox == [] and "draft" in out.getvalue()
