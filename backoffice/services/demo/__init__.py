"""The demo program `make run` shows: tiers, rewards, earning rules, ~50 members with up to eighteen months of history,
challenges and badges, two open surveys with answers, product reviews, support feedback, a sent newsletter, one
metric rollup and the demo logins. Staff-entered texts come in all five portal languages. Safe to run again: a
second run writes nothing.

The past is replayed in time order (`_Timeline`), with the periodic jobs run when beat would have run them: a
purchase's points are confirmed at :05 past the hour its return window closes (purchases still inside it wait,
pending), lots expire at 00:30 program time after their date, and redemptions, survey answers, reviews, challenge
progress and support feedback happen at their own moments. So every ledger entry carries the date it would have
had, and each balance_after follows from the entries dated before it. This seed used to post the whole history
"now": a purchase older than the expiry period then earned a lot whose expiry (counted from the purchase date,
docs/decisions.md) had already passed, and the points history read "points from 1 Dec expired on 10 Nov".
Everything goes through the apps' services; nothing here writes the ledger, and content rows (tiers, rewards,
challenges, surveys, a newsletter) are what staff enter in the admin; what they hold is in `content`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.utils import timezone, translation

from backoffice.models import MetricSnapshot, Newsletter
from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from backoffice.services.demo.content import (
    BADGES,
    BIRTHDAY_REWARD,
    CHALLENGES,
    CUSTOMER_ORDERS,
    CUSTOMER_REDEMPTION,
    ESPRESSO_ANSWERS,
    FEEDBACK,
    FIRST_NAMES,
    MARKETING_CONSENT_EVERY,
    MEMBER_COUNT,
    MEMBER_LANGUAGES,
    NEWSLETTER_BODY,
    NEWSLETTER_SUBJECT,
    OFFERS,
    REVIEWS,
    REWARDS,
    RULES,
    SERVICE_ANSWERS,
    STREAK_JOINERS,
    SURVEYS,
    TIERS,
    F,
    Q,
    _i18n,
)
from backoffice.services.demo.replay import (
    _History,
    _purchase_in,
    _random_orders,
    _Timeline,
)
from backoffice.services.metrics import metrics_rollup, rollup_default_day
from backoffice.services.newsletters import newsletter_schedule, newsletter_send_run
from campaigns.models import Offer
from campaigns.services.offers import offer_assign
from config.exceptions import DomainError
from config.periods import local_date, local_midnight
from feedback.models import FeedbackRecord, Review, Survey, SurveyQuestion, SurveyResponse
from feedback.services import (
    AnswerIn,
    feedback_record,
    feedback_status_change,
    review_approve,
    review_create,
    review_reject,
    survey_response_submit,
)
from gamification.models import Badge, Challenge
from gamification.services import challenge_join
from loyalty.models import EarningRule, Purchase
from loyalty.rules import earning_rules_changed
from loyalty.services import PurchaseIn
from members.models import Member, Tier, User
from members.services import member_create, member_create_for_user, member_profile_update
from members.services.consent import consent_token_make, marketing_consent_confirm
from rewards.models import ChallengeReward, Redemption, Reward
from rewards.services import reward_redeem, voucher_use, vouchers_expire_due

DEMO_DOMAIN = "demo.fidelio.test"
DEMO_PASSWORD = "fidelio-demo"  # noqa: S105 - printed for the demo on purpose
DEMO_SCOPE = "demo"  # idempotency scope of the demo's redemptions and feedback records

# Mail backends that keep what they "send" on this machine (the console, memory, nowhere): the demo newsletter is
# sent through them. With any other backend (SMTP, files another program reads) the seed sends no mail to the
# demo's made-up addresses and leaves the newsletter as a draft to send from the admin.
LOCAL_MAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str
    member_number: str | None = None


def _login(email: str, *, password_hash: Callable[[], str], staff: bool = False, superuser: bool = False,
           group: str | None = None, first_name: str = "") -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, first_name=first_name, is_staff=staff, is_superuser=superuser)
        user.password = password_hash()
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _upsert(model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any],
            create_only: dict[str, Any] | None = None) -> Any:
    """The row `lookup` finds, brought up to date with `values` (only fields that differ are written, so a second
    run writes nothing), or created with `values` and `create_only`."""
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        return model._default_manager.create(**{**lookup, **values, **(create_only or {})})
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if changed:
        for name in changed:
            setattr(row, name, values[name])
        row.save(update_fields=changed)
    return row


class _Demo:
    """The moment the demo is built at, its program-time calendar and the timeline of its past."""

    def __init__(self, *, now: datetime):
        self.now = now
        self.timeline = _Timeline(now=now)
        self.today = local_date(now)

    def ago(self, days: int, hour: int, minute: int = 0) -> datetime:
        """`hour`:`minute` program time, `days` days before today (program time)."""
        return local_midnight(self.today - timedelta(days=days)) + timedelta(hours=hour, minutes=minute)


# ------------------------------------------------------------------------------------------------ content
def _tiers() -> dict[int, Tier]:
    tiers = {}
    for rank, threshold, spend, multiplier, colour, name, benefits in TIERS:
        tiers[rank] = _upsert(Tier, lookup={"name_en": name["en"]}, values={
            "rank": rank, "threshold_points": threshold, "threshold_spend": spend, "earn_multiplier": multiplier,
            "colour": colour, **_i18n("name", name), **_i18n("benefits", benefits)})
    return tiers


def _rewards(tiers: dict[int, Tier]) -> dict[str, Reward]:
    rewards = {}
    for order, (kind, value, cost, stock, tier_rank, name, description) in enumerate(REWARDS):
        rewards[name["en"]] = _upsert(
            Reward, lookup={"name_en": name["en"]},
            values={**_i18n("name", name), **_i18n("description", description)},
            create_only={"kind": kind, "value": value, "cost_points": cost, "stock": stock,
                         "minimum_tier": tiers.get(tier_rank), "sort_order": order * 10})
    name, description = BIRTHDAY_REWARD
    rewards[name["en"]] = _upsert(
        Reward, lookup={"name_en": name["en"]}, values={**_i18n("name", name), **_i18n("description", description)},
        create_only={"kind": Reward.Kind.FREE_PRODUCT, "cost_points": 1, "is_birthday_reward": True,
                     "voucher_valid_days": 30, "sort_order": 1000})
    return rewards


def _challenges(demo: _Demo, rewards: dict[str, Reward]) -> list[Challenge]:
    badges = {}
    for order, (key, (icon, name, description, how_to_earn)) in enumerate(BADGES.items()):
        badges[key] = _upsert(Badge, lookup={"name_en": name["en"]},
                              values={**_i18n("name", name), **_i18n("description", description)},
                              create_only={"icon": icon, "how_to_earn": how_to_earn, "sort_order": order * 10,
                                           "created_at": demo.ago(70, 9)})
    challenges = []
    for spec in CHALLENGES:
        starts_at = demo.ago(spec.started_days_ago, 0)
        challenge = _upsert(
            Challenge, lookup={"title_en": spec.title["en"]},
            values={**_i18n("title", spec.title), **_i18n("description", spec.description)},
            create_only={"icon": spec.icon, "goal": spec.goal, "target": spec.target,
                         "bonus_points": spec.bonus_points, "enrolment": spec.enrolment,
                         "badge": badges.get(spec.badge) if spec.badge else None, "starts_at": starts_at,
                         "ends_at": demo.ago(-spec.ends_in_days, 0), "created_at": starts_at - timedelta(days=3)})
        if spec.voucher_reward:
            ChallengeReward.objects.get_or_create(challenge=challenge,
                                                  defaults={"reward": rewards[spec.voucher_reward]})
        challenges.append(challenge)
    return challenges


def _offers(demo: _Demo) -> None:
    """The demo's offers, assigned after the rollup (their audiences read the scores), as the nightly job does."""
    for number, (fields, name, description) in enumerate(OFFERS, start=1):
        fields = dict(fields)
        days = fields.pop("days")
        offer = _upsert(Offer, lookup={"name_en": name["en"]},
                        values={**_i18n("name", name), **_i18n("description", description)},
                        create_only={**fields, "seed": f"demo-offer-{number}", "starts_at": demo.ago(2, 9),
                                     "ends_at": demo.ago(-days, 0), "created_at": demo.ago(3, 9)})
        offer_assign(offer=offer, now=demo.now)


def _surveys(demo: _Demo) -> dict[str, tuple[Survey, list[SurveyQuestion]]]:
    surveys = {}
    for key, spec in SURVEYS.items():
        survey = _upsert(Survey, lookup={"title_en": spec["title"]["en"]},
                         values={**_i18n("title", spec["title"]), **_i18n("intro", spec["intro"])},
                         create_only={"trigger": Survey.Trigger.ALWAYS_OPEN, "bonus_points": spec["bonus_points"],
                                      "created_at": demo.ago(spec["created_days_ago"], 9)})
        questions = [_upsert(SurveyQuestion, lookup={"survey": survey, "order": order},
                             values=_i18n("text", text), create_only={"kind": kind, "required": required})
                     for order, (kind, required, text) in enumerate(spec["questions"], start=1)]
        surveys[key] = (survey, questions)
    return surveys


# ------------------------------------------------------------------------------------------- member steps
def _answers(questions: list[SurveyQuestion], scores: tuple[int, ...], comment: str) -> list[AnswerIn]:
    answers = []
    for question, score in zip([q for q in questions if q.kind != Q.TEXT], scores, strict=True):
        answers.append(AnswerIn(question_id=question.pk, score=score))
    text = next((q for q in questions if q.kind == Q.TEXT), None)
    if comment and text is not None:
        answers.append(AnswerIn(question_id=text.pk, text=comment))
    return answers


def _survey_steps(demo: _Demo, members: list[Member],
                  surveys: dict[str, tuple[Survey, list[SurveyQuestion]]]) -> None:
    plans = [("service", (i, d, h, (nps, csat), c)) for i, d, h, nps, csat, c in SERVICE_ANSWERS]
    plans += [("espresso", (i, d, h, (csat,), c)) for i, d, h, csat, c in ESPRESSO_ANSWERS]
    answered = set(SurveyResponse.objects.filter(survey__in=[s for s, _q in surveys.values()],
                                                 invitation__isnull=True).values_list("survey_id", "member_id"))
    for key, (index, days, hour, scores, comment) in plans:
        survey, questions = surveys[key]
        member = members[index]
        if (survey.pk, member.pk) in answered:
            continue
        answers = _answers(questions, scores, comment)

        def submit(now: datetime, survey: Survey = survey, member: Member = member,
                   answers: list[AnswerIn] = answers) -> None:
            survey_response_submit(answers=answers, survey=survey, member=member, now=now)

        demo.timeline.at(demo.ago(days, hour, 20), submit)


def _bought_before(orders: dict[int, list[PurchaseIn]], index: int, sku: str, moment: datetime) -> bool:
    window = timedelta(days=settings.FIDELIO_RETURN_WINDOW_DAYS)
    return any(o.occurred_at + window < moment and any(i.sku == sku for i in o.items) for o in orders.get(index, []))


def _review_steps(demo: _Demo, members: list[Member], orders: dict[int, list[PurchaseIn]],
                  moderator: User) -> None:
    written = set(Review.objects.filter(member__in=members).values_list("sku", "title"))
    taken: set[int] = set()
    for index, language, sku, days, rating, title, text, outcome in REVIEWS:
        at = demo.ago(days, 20)
        if index is None:  # the first member reading in `language` who bought it before (any member otherwise)
            candidates = [i for i in range(1, len(members)) if MEMBER_LANGUAGES[i % 5] == language and i not in taken]
            index = next((i for i in candidates if _bought_before(orders, i, sku, at)), candidates[0])
            taken.add(index)
        if (sku, title) in written:  # written by a run before (whoever its reviewer was)
            continue
        member = members[index]

        def write(now: datetime, member: Member = member, sku: str = sku, rating: int = rating, title: str = title,
                  text: str = text) -> None:
            review_create(member=member, sku=sku, rating=rating, title=title, text=text, now=now)

        def moderate(now: datetime, member: Member = member, sku: str = sku, outcome: str = outcome) -> None:
            review = Review.objects.get(member=member, sku=sku)
            if outcome == "approved":
                review_approve(review_id=review.pk, by=moderator, now=now)
            else:
                review_reject(review_id=review.pk, by=moderator, reason=outcome, now=now)

        demo.timeline.at(at, write)
        if outcome != "pending":
            demo.timeline.at(at + timedelta(hours=14), moderate)


def _feedback_steps(demo: _Demo, members: list[Member], agent: User) -> None:
    recorded = set(FeedbackRecord.objects.filter(idempotency_scope=DEMO_SCOPE).values_list("idempotency_key",
                                                                                           flat=True))
    for key, index, hours_ago, channel, kind, category, sentiment, text, steps in FEEDBACK:
        idempotency_key = f"demo-feedback-{key}"
        if idempotency_key in recorded:
            continue
        member = members[index] if index is not None else None
        by_member = channel == F.Channel.PORTAL
        at = demo.now - timedelta(hours=hours_ago)

        def record(now: datetime, member: Member | None = member, channel: str = channel, kind: str = kind,
                   category: str = category, sentiment: str = sentiment, text: str = text,
                   idempotency_key: str = idempotency_key, by_member: bool = by_member, staged: bool = bool(steps)
                   ) -> None:
            record, _created = feedback_record(
                channel=channel, category=category, text=text, member=member, kind=kind, sentiment=sentiment,
                created_by=None if by_member else agent, assignee=agent if staged else None,
                idempotency_scope=DEMO_SCOPE, idempotency_key=idempotency_key, now=now)
            # The agent settled it with the member directly: no "you told us, we acted" e-mail (the admin's
            # "notify member" box, set as the admin's add form sets it).
            FeedbackRecord.objects.filter(pk=record.pk).update(notify_member=False)

        demo.timeline.at(at, record)
        for hours_after, status, note in steps:
            def change(now: datetime, idempotency_key: str = idempotency_key, status: str = status,
                       note: str = note) -> None:
                record = FeedbackRecord.objects.get(idempotency_scope=DEMO_SCOPE, idempotency_key=idempotency_key)
                feedback_status_change(record_id=record.pk, status=status, by=agent, note=note, now=now)

            demo.timeline.at(at + timedelta(hours=hours_after), change)


def _customer_voucher_steps(demo: _Demo, customer: Member, rewards: dict[str, Reward]) -> None:
    """The customer spends 500 points on a voucher and uses it on their next order."""
    days, hour, reward_name, used_on = CUSTOMER_REDEMPTION
    key = f"demo-history-{customer.pk}"
    if Redemption.objects.filter(idempotency_scope=DEMO_SCOPE, idempotency_key=key).exists():
        return
    reward = rewards[reward_name]

    def redeem(now: datetime) -> None:
        with contextlib.suppress(DomainError):  # a history too short for it (an older demo database): no voucher
            reward_redeem(member_id=customer.pk, reward_id=reward.pk, source="portal",
                          idempotency_scope=DEMO_SCOPE, idempotency_key=key, now=now)

    def use(now: datetime) -> None:
        redemption = Redemption.objects.filter(idempotency_scope=DEMO_SCOPE, idempotency_key=key).first()
        if redemption is not None:
            voucher_use(code=redemption.voucher.code, order_id=_customer_order_id(used_on), now=now)

    demo.timeline.at(demo.ago(days, hour), redeem)
    order_hour = next(h for d, h, _s, _i in CUSTOMER_ORDERS if d == used_on)
    demo.timeline.at(demo.ago(used_on, order_hour) - timedelta(minutes=3), use)  # at the checkout, before the post


def _customer_order_id(days_ago: int) -> str:
    number = next(n for n, (d, _h, _s, _i) in enumerate(CUSTOMER_ORDERS, start=1) if d == days_ago)
    return f"DEMO-000-{number:02d}"


def _history_steps(demo: _Demo, members: list[Member], history: _History) -> dict[int, list[PurchaseIn]]:
    """Every order of members who have none yet (a member's history is written once, from its start)."""
    orders = _random_orders(members, now=demo.now)
    customer = members[0]
    orders[0] = [
        _purchase_in(member=customer, order_id=_customer_order_id(days), when=demo.ago(days, hour, 7),
                     source=source, items=items)
        for days, hour, source, items in CUSTOMER_ORDERS
    ]
    with_history = set(Purchase.objects.filter(member__in=members).values_list("member_id", flat=True).distinct())
    for index, member_orders in orders.items():
        if members[index].pk in with_history:
            continue
        for order in member_orders:
            history.post(order)
    return orders


def _streak_steps(demo: _Demo, members: list[Member], challenges: list[Challenge]) -> None:
    streak = next(c for c in challenges if c.enrolment == Challenge.Enrolment.OPT_IN)
    joined = set(streak.participations.values_list("member_id", flat=True))
    for index, days in STREAK_JOINERS:
        if members[index].pk in joined:
            continue

        def join(now: datetime, member: Member = members[index]) -> None:
            with contextlib.suppress(DomainError):
                challenge_join(challenge_id=streak.pk, member=member, now=now)

        demo.timeline.at(demo.ago(days, 19), join)


# ----------------------------------------------------------------------------------------------- the end
def _newsletter(demo: _Demo, author: User) -> Newsletter:
    """A newsletter written this week, sent through the newsletter service when its mail stays on this machine
    (LOCAL_MAIL_BACKENDS); otherwise left as a draft to send from the admin."""
    newsletter = _upsert(Newsletter, lookup={"subject_en": NEWSLETTER_SUBJECT["en"]},
                         values={**_i18n("subject", NEWSLETTER_SUBJECT), **_i18n("body_markdown", NEWSLETTER_BODY)},
                         create_only={"created_by": author, "created_at": demo.now - timedelta(days=2)})
    if newsletter.status == Newsletter.Status.DRAFT and settings.EMAIL_BACKEND in LOCAL_MAIL_BACKENDS:
        newsletter_schedule(newsletter=newsletter, when=timezone.now())
        newsletter_send_run(newsletter_id=newsletter.pk)
        newsletter.refresh_from_db()
    return newsletter


def _members(demo: _Demo) -> list[Member]:
    """The demo customer (a shop customer whose purchases were known before they signed up; claimed by their login
    below) and MEMBER_COUNT members known to the shop, in several languages, some with marketing consent."""
    customer_email = f"customer@{DEMO_DOMAIN}"
    customer = Member.objects.filter(email=customer_email).first()
    fresh: list[tuple[int, Member]] = []
    if customer is None:
        customer = member_create(email=customer_email, first_name="Alex", display_name="Alex", via="import")
        fresh.append((0, customer))
    existing = {m.email: m for m in Member.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", user__isnull=True)}
    members = [customer]
    for i in range(1, MEMBER_COUNT + 1):
        first = FIRST_NAMES[(i - 1) % len(FIRST_NAMES)]
        email = f"{first.lower()}.{i:02d}@{DEMO_DOMAIN}"
        member = existing.get(email)
        if member is None:
            member = member_create(email=email, first_name=first, display_name=f"{first} {chr(64 + (i % 26) + 1)}.",
                                   via="import")
            fresh.append((i, member))
        members.append(member)
    for i, member in fresh:  # set once, as each member chose: a re-run changes nobody's profile
        consent = i == 0 or i % MARKETING_CONSENT_EVERY == 1
        if settings.FIDELIO_DOUBLE_OPT_IN and consent:  # as if they had clicked the link in the confirmation mail
            token = consent_token_make(member=member, wording="Yes, send me the newsletter.")
            marketing_consent_confirm(token=token, now=demo.now)
            consent = None
        members[i] = member_profile_update(member=member, language=MEMBER_LANGUAGES[i % 5] if i else None,
                                           marketing_consent=consent or None, now=demo.now)
    return members


@transaction.atomic
def demo_seed() -> list[DemoLogin]:
    with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE):  # lookups by the English texts
        return _demo_seed(now=timezone.now())


def _demo_seed(*, now: datetime) -> list[DemoLogin]:
    demo = _Demo(now=now)
    tiers = _tiers()
    rewards = _rewards(tiers)
    challenges = _challenges(demo, rewards)
    surveys = _surveys(demo)

    hashed: list[str] = []

    def password_hash() -> str:  # one PBKDF2 for the four logins (they share the published password)
        if not hashed:
            hashed.append(make_password(DEMO_PASSWORD))
        return hashed[0]

    members = _members(demo)
    customer_user = _login(f"customer@{DEMO_DOMAIN}", password_hash=password_hash, first_name="Alex")
    customer, _refused = member_create_for_user(user=customer_user)  # claims the shop's member of that address
    members[0] = customer
    manager = _login(f"manager@{DEMO_DOMAIN}", password_hash=password_hash, staff=True, superuser=True,
                     first_name="Morgan")
    agent = _login(f"support@{DEMO_DOMAIN}", password_hash=password_hash, staff=True, group=SUPPORT_AGENT,
                   first_name="Sam")
    programme = _login(f"programme@{DEMO_DOMAIN}", password_hash=password_hash, staff=True, group=PROGRAM_MANAGER,
                       first_name="Pat")

    for name, rule_type, fields in RULES:
        EarningRule.objects.get_or_create(name=name, defaults={"rule_type": rule_type, **fields})
    earning_rules_changed()

    history = _History(demo.timeline, challenges_from=min(c.starts_at for c in challenges))
    orders = _history_steps(demo, members, history)
    _customer_voucher_steps(demo, customer, rewards)
    _streak_steps(demo, members, challenges)
    _survey_steps(demo, members, surveys)
    _review_steps(demo, members, orders, programme)
    _feedback_steps(demo, members, agent)
    demo.timeline.run()

    # Today: what the hourly and daily jobs would find due now, the customer's unused voucher, this week's
    # newsletter, vouchers past their date, and yesterday's metric rollup (the nightly 02:00 run).
    history.confirm_due(now)
    history.expire_due(now)
    with contextlib.suppress(DomainError):  # not enough points in this demo history: no voucher
        reward_redeem(member_id=customer.pk, reward_id=rewards["Free shipping"].pk, source="portal",
                      idempotency_scope=DEMO_SCOPE, idempotency_key=f"demo-voucher-{customer.pk}", now=now)
    _newsletter(demo, programme)
    vouchers_expire_due(now=now)
    day = rollup_default_day(now=now)
    if not MetricSnapshot.objects.filter(as_of=day).exists():
        metrics_rollup(as_of=day)
    _offers(demo)

    return [
        DemoLogin("customer (portal)", customer_user.email, DEMO_PASSWORD, customer.member_number),
        DemoLogin("staff, superuser (back office)", manager.email, DEMO_PASSWORD),
        DemoLogin("program manager (back office)", programme.email, DEMO_PASSWORD),
        DemoLogin("support agent (back office)", agent.email, DEMO_PASSWORD),
    ]
