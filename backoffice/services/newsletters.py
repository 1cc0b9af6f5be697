"""Newsletters: audience, rendering, preview, scheduling and the batched, exactly-once send.

How a send works (invariant 7 in DESIGN.md):

1. `newsletter_send_start` (admin "send now") or the periodic `newsletters_start_due` queue the send task.
2. The task calls `newsletter_send_run`. Its first step claims the newsletter (`scheduled` → `sending`, a
   conditional UPDATE) and, in the same transaction, materialises the audience as `NewsletterDelivery` rows in
   one `INSERT … SELECT … ON CONFLICT DO NOTHING`. A retry finds the newsletter already `sending` and skips
   straight to step 3, so the audience is fixed once.
3. Batches of pending deliveries are claimed with `SELECT … FOR UPDATE SKIP LOCKED`, each message goes through
   the e-mail backend on one open connection, and the batch's accepted rows are marked `sent` in the same
   transaction that held the locks. A refused recipient (5xx, bad address) marks its row `failed` with the
   error. A connection-level error (server gone, timeout, 4xx) stops the batch: the rows accepted so far are
   committed as sent, the rest stay pending, and the task retries later — so a restart sends only what is left.
   A PostgreSQL advisory lock per newsletter keeps one sender per newsletter (a second task returns at once).
   The one window no sender can close: a worker killed after the SMTP server accepted a message but before
   its batch committed resends that batch's accepted messages; keep batches small (FIDELIO_NEWSLETTER_BATCH).
4. When no pending row is left the newsletter becomes `sent`.

Audience criteria combine with AND; a list (tiers, segments) matches any of its values. Every audience is
restricted to members with marketing consent and a non-empty e-mail address, at materialisation and again
at sending time (a member who withdrew consent in between gets nothing; the row is marked failed).
"""

from __future__ import annotations

import contextlib
import html
import re
import smtplib
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta

import markdown
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy
from markdown.treeprocessors import Treeprocessor

from backoffice.models import Newsletter, NewsletterDelivery
from config.exceptions import Conflict, DomainError, Gone, NotFound
from config.sql import fetch_one
from loyalty.models import PointsLot
from loyalty.selectors import points_expiring_get
from members.mail import mail_language
from members.models import Member
from members.services import member_profile_update
from rewards.selectors import reward_list_available

UNSUBSCRIBE_SALT = "fidelio.newsletter.unsubscribe"
UNSUBSCRIBE_MAX_AGE = timedelta(days=365)  # an unsubscribe link works for a year from sending
PLACEHOLDERS = ("first_name", "balance", "tier", "points_expiring", "recommended_reward")
_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_SAFE_URL_RE = re.compile(r"^(https?://|mailto:|#|/(?!/))", re.IGNORECASE)
_ADVISORY_NAMESPACE = 7_001  # pg_try_advisory_lock(namespace, newsletter id): one sender per newsletter
AUDIENCE_KEYS = {"tiers", "segments", "p_alive_below", "expiring_points"}


class UnsubscribeLinkInvalid(DomainError):
    code = "invalid_link"
    status_code = 400
    default_detail = gettext_lazy("This unsubscribe link is not valid. Copy the whole link from the e-mail, or "
                                  "change your preferences in your account.")


class UnsubscribeLinkExpired(Gone):
    code = "link_expired"
    default_detail = gettext_lazy("This unsubscribe link has expired: the links in our newsletters work for a year.")


class NewsletterSendInterrupted(Exception):
    """The mail server went away mid-send; what was accepted is recorded, the rest stays pending."""


# ------------------------------------------------------------------------------------------------ audience
def audience_validate(audience: dict | None) -> dict:
    """The audience JSON, checked: known keys, sensible types. Returns a normalised copy."""
    audience = dict(audience or {})
    unknown = set(audience) - AUDIENCE_KEYS
    if unknown:
        raise DomainError(gettext("Unknown audience keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))},
                          field="audience", code="invalid_audience")
    out: dict = {}
    if audience.get("tiers"):
        out["tiers"] = [int(t) for t in audience["tiers"]]
    if audience.get("segments"):
        from backoffice.models import MemberScore

        bad = set(audience["segments"]) - set(MemberScore.Segment.values)
        if bad:
            raise DomainError(gettext("Unknown segments: %(segments)s.") % {"segments": ", ".join(sorted(bad))},
                              field="audience", code="invalid_audience")
        out["segments"] = list(audience["segments"])
    if audience.get("p_alive_below") not in (None, ""):
        value = float(audience["p_alive_below"])
        if not 0 < value <= 1:
            raise DomainError(gettext("p_alive_below is a probability between 0 and 1."), field="audience",
                              code="invalid_audience")
        out["p_alive_below"] = value
    if audience.get("expiring_points"):
        out["expiring_points"] = True
    return out


def newsletter_audience_qs(*, audience: dict | None, now=None) -> QuerySet[Member]:
    """Members a newsletter with this audience goes to: always only those with marketing consent and an
    e-mail address. Members without a score row have no segment and no P(alive), so segment and churn-risk
    criteria leave them out."""
    audience = audience_validate(audience)
    qs = Member.objects.filter(marketing_consent=True).exclude(email="")
    if "tiers" in audience:
        qs = qs.filter(tier_id__in=audience["tiers"])
    if "segments" in audience:
        qs = qs.filter(score__segment__in=audience["segments"])
    if "p_alive_below" in audience:
        qs = qs.filter(score__p_alive__lt=audience["p_alive_below"])
    if audience.get("expiring_points"):
        now = now or timezone.now()
        horizon = now + timedelta(days=settings.FIDELIO_EXPIRY_NOTICE_DAYS)
        qs = qs.filter(Exists(PointsLot.objects.filter(member_id=OuterRef("pk"), remaining__gt=0,
                                                       expires_at__gt=now, expires_at__lte=horizon)))
    return qs


def members_narrow_by_scores(members: QuerySet[Member], *, segments=None, p_alive_min=None, p_alive_max=None,
                             clv_min=None, clv_max=None) -> QuerySet[Member]:
    """The score conditions of an offer's audience (campaigns.services.offers registers this): members without a
    score row have no segment, P(alive) or CLV, so any of these conditions leaves them out."""
    if segments:
        members = members.filter(score__segment__in=segments)
    if p_alive_min is not None:
        members = members.filter(score__p_alive__gte=p_alive_min)
    if p_alive_max is not None:
        members = members.filter(score__p_alive__lte=p_alive_max)
    if clv_min is not None:
        members = members.filter(score__clv_12m__gte=clv_min)
    if clv_max is not None:
        members = members.filter(score__clv_12m__lte=clv_max)
    return members


def newsletter_audience_count(*, newsletter: Newsletter) -> int:
    return newsletter_audience_qs(audience=newsletter.audience).count()


def newsletter_deliveries_materialise(*, newsletter: Newsletter) -> int:
    """One delivery row per audience member, in one INSERT … SELECT … ON CONFLICT DO NOTHING.
    Returns the rows inserted (0 when run again)."""
    select_sql, params = (newsletter_audience_qs(audience=newsletter.audience)
                          .order_by().values_list("pk", "email").query.sql_with_params())
    table = connection.ops.quote_name(NewsletterDelivery._meta.db_table)
    sql = (f"INSERT INTO {table} (newsletter_id, member_id, email, status, error) "  # noqa: S608 - names only
           f"SELECT %s, audience.id, audience.email, %s, '' FROM ({select_sql}) AS audience(id, email) "
           f"ON CONFLICT (newsletter_id, member_id) DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, [newsletter.pk, NewsletterDelivery.Status.PENDING, *params])
        return cursor.rowcount


# ----------------------------------------------------------------------------------------------- rendering
class _SafeLinks(Treeprocessor):
    """Links and images only to http(s), mailto, fragments and site paths (no javascript: or data:)."""

    def run(self, root: ET.Element) -> None:
        for element in root.iter():
            for attr in ("href", "src"):
                value = element.get(attr)
                if value is not None and not _SAFE_URL_RE.match(value.strip()):
                    element.set(attr, "#")


def markdown_to_html(text: str) -> str:
    """Staff Markdown as HTML without any raw HTML from the input: `<` is escaped before rendering (so tags
    and comments show as text) and unsafe link schemes are replaced. Placeholders pass through untouched."""
    md = markdown.Markdown(extensions=[], output_format="html")
    md.treeprocessors.register(_SafeLinks(md), "fidelio_safe_links", 0)
    return md.convert(text.replace("<", "&lt;"))


@dataclass(frozen=True)
class MemberValues:
    first_name: str
    balance: int
    tier: str
    points_expiring: int
    recommended_reward: str

    def as_dict(self) -> dict[str, str]:
        return {"first_name": self.first_name, "balance": f"{self.balance:,}", "tier": self.tier,
                "points_expiring": f"{self.points_expiring:,}", "recommended_reward": self.recommended_reward}


SAMPLE_VALUES = MemberValues(first_name="Alex", balance=1250, tier="Gold", points_expiring=200,
                             recommended_reward="Free coffee")


def placeholders_fill(template: str, values: dict[str, str], *, escape: bool) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: html.escape(values[m.group(1)]) if escape else values[m.group(1)],
                               template)


def reward_recommend(*, member: Member, rewards: list) -> str:
    """The most valuable reward the member can afford now: the highest `cost_points` not above the balance,
    open to the member's tier and in stock; ties go to catalog order. Empty when none is affordable."""
    rank = member.tier.rank if member.tier_id else 0
    best = None
    for reward in rewards:
        if reward.cost_points > member.points_balance or reward.stock == 0:
            continue
        if reward.minimum_tier_id and reward.minimum_tier.rank > rank:
            continue
        if best is None or reward.cost_points > best.cost_points:
            best = reward
    return best.name if best else ""


def points_expiring_many(*, member_ids: list[int], now=None) -> dict[int, int]:
    """Points expiring within FIDELIO_EXPIRY_NOTICE_DAYS for many members in one query: the definition of
    loyalty.selectors.points_expiring_get (which the tests compare against), grouped by member."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.FIDELIO_EXPIRY_NOTICE_DAYS)
    return dict(PointsLot.objects.filter(member_id__in=member_ids, remaining__gt=0, expires_at__gt=now,
                                         expires_at__lte=horizon)
                .values("member_id").annotate(points=Sum("remaining")).values_list("member_id", "points"))


def member_values_get(*, member: Member, rewards: list, uses: set[str], expiring: dict[int, int] | None = None
                      ) -> MemberValues:
    """The placeholder values of one member; the expiring points are looked up only if the body uses them
    (from `expiring`, a batch's points_expiring_many, when given)."""
    if "points_expiring" not in uses:
        points_expiring = 0
    elif expiring is not None:
        points_expiring = expiring.get(member.pk, 0)
    else:
        points_expiring = points_expiring_get(member_id=member.pk)["points"]
    return MemberValues(
        first_name=member.first_name or "there",
        balance=member.points_balance,
        tier=member.tier.name if member.tier_id else "",
        points_expiring=points_expiring,
        recommended_reward=reward_recommend(member=member, rewards=rewards) if "recommended_reward" in uses else "",
    )


def unsubscribe_token_make(*, member_id: int, newsletter_id: int) -> str:
    return signing.dumps({"m": member_id, "n": newsletter_id}, salt=UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_url(*, member_id: int, newsletter_id: int) -> str:
    token = unsubscribe_token_make(member_id=member_id, newsletter_id=newsletter_id)
    path = reverse("newsletter-unsubscribe", kwargs={"token": token})
    return settings.FIDELIO_PUBLIC_URL.rstrip("/") + path


class NewsletterRenderer:
    """Renders one newsletter for many members: per language (subject and body as staff wrote them in it, else
    English; backoffice/translation.py) the Markdown once, then per member only the placeholders."""

    def __init__(self, newsletter: Newsletter):
        self.newsletter = newsletter
        self._texts: dict[str, tuple[str, str, str]] = {}  # language -> subject, Markdown, HTML
        written = [getattr(newsletter, f"{name}_{code}") or "" for code, _name in settings.LANGUAGES
                   for name in ("subject", "body_markdown")]
        self.uses = set(_PLACEHOLDER_RE.findall("".join(written) + newsletter.body_markdown + newsletter.subject))
        self.rewards = list(reward_list_available()) if "recommended_reward" in self.uses else []
        self.html_template = get_template("backoffice/newsletter_email.html")
        self.text_template = get_template("backoffice/newsletter_email.txt")

    def texts(self, language: str) -> tuple[str, str, str]:
        if language not in self._texts:
            with translation.override(language):  # modeltranslation reads the active language's column
                subject, body = self.newsletter.subject, self.newsletter.body_markdown
            self._texts[language] = (subject, body, markdown_to_html(body))
        return self._texts[language]

    def message(self, *, email: str, values: MemberValues, unsubscribe: str, connection=None,
                language: str | None = None) -> EmailMultiAlternatives:
        language = mail_language(language)
        subject_raw, body_markdown, body_html = self.texts(language)
        data = values.as_dict()
        subject = placeholders_fill(subject_raw, data, escape=False).replace("\n", " ")
        context = {
            "subject": subject, "unsubscribe_url": unsubscribe, "program_name": settings.FIDELIO_PROGRAM_NAME,
            "body_text": placeholders_fill(body_markdown, data, escape=False),
            "body_html": placeholders_fill(body_html, data, escape=True),
        }
        with translation.override(language):  # the footer in the member's language
            text, html = self.text_template.render(context), self.html_template.render(context)
        message = EmailMultiAlternatives(
            subject=subject, body=text, to=[email], connection=connection,
            headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )
        message.attach_alternative(html, "text/html")
        return message


def newsletter_preview_send(*, newsletter: Newsletter, user) -> str:
    """Send the newsletter to a staff user's own address: with their member's values if they are a member,
    otherwise with sample values. The unsubscribe link of a preview leads nowhere (member 0)."""
    if not user.email:
        raise DomainError(gettext("Your account has no e-mail address to send a preview to."), code="no_email")
    renderer = NewsletterRenderer(newsletter)
    member = Member.objects.select_related("tier").filter(user=user).first()
    values = (member_values_get(member=member, rewards=renderer.rewards, uses=renderer.uses) if member
              else SAMPLE_VALUES)
    message = renderer.message(email=user.email, values=values, language=member.language if member else None,
                               unsubscribe=unsubscribe_url(member_id=0, newsletter_id=newsletter.pk))
    message.subject = f"[Preview] {message.subject}"
    message.send()
    return user.email


# ------------------------------------------------------------------------------------------- scheduling
@transaction.atomic
def newsletter_schedule(*, newsletter: Newsletter, when=None) -> Newsletter:
    """Schedule a draft (or move a scheduled one) to `when` (default: its scheduled_at). `when` at or before
    now means "send now": the task is queued after commit."""
    when = when or newsletter.scheduled_at
    if when is None:
        raise DomainError(gettext("Set the time to send it first."), field="scheduled_at", code="no_schedule")
    changed = Newsletter.objects.filter(
        pk=newsletter.pk, status__in=[Newsletter.Status.DRAFT, Newsletter.Status.SCHEDULED]
    ).update(status=Newsletter.Status.SCHEDULED, scheduled_at=when)
    if changed != 1:
        raise Conflict(gettext("This newsletter is already being sent or was sent."), code="newsletter_not_draft")
    newsletter.refresh_from_db()
    if when <= timezone.now():
        from backoffice.tasks import newsletter_send

        newsletter_id = newsletter.pk
        transaction.on_commit(lambda: newsletter_send.delay(newsletter_id=newsletter_id))
    return newsletter


def newsletter_send_start(*, newsletter: Newsletter) -> Newsletter:
    return newsletter_schedule(newsletter=newsletter, when=timezone.now())


@transaction.atomic
def newsletter_unschedule(*, newsletter: Newsletter) -> Newsletter:
    changed = Newsletter.objects.filter(pk=newsletter.pk, status=Newsletter.Status.SCHEDULED).update(
        status=Newsletter.Status.DRAFT)
    if changed != 1:
        raise Conflict(gettext("Only a scheduled newsletter can go back to draft."), code="newsletter_not_scheduled")
    newsletter.refresh_from_db()
    return newsletter


def newsletters_due_ids(*, now=None) -> list[int]:
    """Newsletters to (re)start: scheduled ones that are due, and ones left `sending` (a sender that died;
    the advisory lock turns a duplicate start for a live sender into a no-op)."""
    now = now or timezone.now()
    return list(Newsletter.objects.filter(
        Q(status=Newsletter.Status.SCHEDULED, scheduled_at__lte=now) | Q(status=Newsletter.Status.SENDING)
    ).order_by("pk").values_list("pk", flat=True))


# ----------------------------------------------------------------------------------------------- sending
@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    more: bool = False  # pending rows are left (time budget used up); queue the task again
    skipped: bool = False  # another sender holds this newsletter, or it is not due


def _permanent(exc: Exception) -> bool:
    """True when the error is about this message (refused recipient, 5xx, bad content): record and move on.
    False for connection trouble (server gone, timeouts, 4xx): stop and retry later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return not isinstance(exc, OSError)


def _claim(newsletter_id: int, now) -> Newsletter | None:
    """Start sending: a due scheduled newsletter becomes `sending` and gets its delivery rows, atomically."""
    with transaction.atomic():
        claimed = Newsletter.objects.filter(pk=newsletter_id, status=Newsletter.Status.SCHEDULED,
                                            scheduled_at__lte=now).update(status=Newsletter.Status.SENDING)
        newsletter = Newsletter.objects.filter(pk=newsletter_id).first()
        if newsletter is None or newsletter.status != Newsletter.Status.SENDING:
            return None
        if claimed:
            newsletter_deliveries_materialise(newsletter=newsletter)
        return newsletter


def _send_batch(*, newsletter: Newsletter, renderer: NewsletterRenderer, mail, batch_size: int, pace) -> tuple:
    """One batch: claim rows, send, record. Returns (sent, failed, claimed, interruption or None)."""
    sent_ids: list[int] = []
    failed: list[tuple[int, str]] = []
    interruption: Exception | None = None
    with transaction.atomic():
        rows = list(NewsletterDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(newsletter_id=newsletter.pk, status=NewsletterDelivery.Status.PENDING)
                    .select_related("member", "member__tier").order_by("pk")[:batch_size])
        expiring = (points_expiring_many(member_ids=[row.member_id for row in rows])
                    if "points_expiring" in renderer.uses and rows else None)
        for row in rows:
            member = row.member
            if not member.marketing_consent or not member.email:
                failed.append((row.pk, "No marketing consent or e-mail address at sending time; not sent."))
                continue
            try:
                values = member_values_get(member=member, rewards=renderer.rewards, uses=renderer.uses,
                                           expiring=expiring)
                message = renderer.message(email=row.email, values=values, connection=mail,
                                           language=member.language, unsubscribe=unsubscribe_url(member_id=member.pk,
                                                                       newsletter_id=newsletter.pk))
                pace()
                accepted = mail.send_messages([message])
            except Exception as exc:
                if not _permanent(exc):
                    interruption = exc
                    break
                failed.append((row.pk, f"{type(exc).__name__}: {exc}"[:500]))
                continue
            if accepted:
                sent_ids.append(row.pk)
            else:
                failed.append((row.pk, "The e-mail backend did not accept the message."))
        now = timezone.now()
        if sent_ids:
            NewsletterDelivery.objects.filter(pk__in=sent_ids).update(status=NewsletterDelivery.Status.SENT,
                                                                     sent_at=now, error="")
        for pk, error in failed:
            NewsletterDelivery.objects.filter(pk=pk).update(status=NewsletterDelivery.Status.FAILED, error=error)
    return len(sent_ids), len(failed), len(rows), interruption


def newsletter_send_run(*, newsletter_id: int, batch_size: int | None = None, rate: float | None = None,
                        time_budget: float | None = None, max_batches: int | None = None) -> SendResult:
    """Send what is pending for one newsletter (starting it first if it is due). Safe to run again at any
    point, and in parallel: each delivery is sent at most once and marked sent only after the backend
    accepted it. Raises NewsletterSendInterrupted on connection trouble (the task retries)."""
    batch_size = batch_size or settings.FIDELIO_NEWSLETTER_BATCH
    rate = settings.FIDELIO_NEWSLETTER_RATE if rate is None else rate
    result = SendResult()
    newsletter = _claim(newsletter_id, timezone.now())
    if newsletter is None:
        result.skipped = True
        return result
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s) AS locked", [_ADVISORY_NAMESPACE, newsletter_id])
        if not fetch_one(cursor)["locked"]:
            result.skipped = True
            return result
    try:
        renderer = NewsletterRenderer(newsletter)
        started = time.monotonic()
        state = {"n": 0}

        def pace() -> None:
            if rate and rate > 0:
                wait = started + state["n"] / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            state["n"] += 1

        mail = get_connection()
        try:
            mail.open()
        except OSError as exc:
            raise NewsletterSendInterrupted(f"The mail server is not reachable: {exc}") from exc
        try:
            batches = 0
            while True:
                sent, failed, claimed, interruption = _send_batch(newsletter=newsletter, renderer=renderer,
                                                                  mail=mail, batch_size=batch_size, pace=pace)
                result.sent += sent
                result.failed += failed
                if interruption is not None:
                    raise NewsletterSendInterrupted(str(interruption)) from interruption
                if claimed == 0:
                    break
                batches += 1
                if (max_batches is not None and batches >= max_batches) or (
                        time_budget is not None and time.monotonic() - started >= time_budget):
                    result.more = True
                    return result
        finally:
            with contextlib.suppress(Exception):  # a broken connection is already reported by the send
                mail.close()
        # Nothing pending that we could claim; finish only when nothing is pending at all (another sender
        # may still hold rows).
        if not NewsletterDelivery.objects.filter(newsletter_id=newsletter_id,
                                                 status=NewsletterDelivery.Status.PENDING).exists():
            Newsletter.objects.filter(pk=newsletter_id, status=Newsletter.Status.SENDING).update(
                status=Newsletter.Status.SENT, sent_at=timezone.now())
        return result
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_ADVISORY_NAMESPACE, newsletter_id])


# ------------------------------------------------------------------------------------------ unsubscribing
def unsubscribe_token_read(*, token: str) -> tuple[int, int]:
    """(member id, newsletter id) of a link signed within UNSUBSCRIBE_MAX_AGE. The signature is checked
    before the age, so only a genuine old link is "expired"; anything altered is invalid."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
        return int(data["m"]), int(data["n"])
    except signing.SignatureExpired as exc:
        raise UnsubscribeLinkExpired() from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise UnsubscribeLinkInvalid() from exc


def unsubscribe_target_get(*, token: str) -> tuple[Member, Newsletter]:
    member_id, newsletter_id = unsubscribe_token_read(token=token)
    member = Member.objects.filter(pk=member_id).first()
    newsletter = Newsletter.objects.filter(pk=newsletter_id).first()
    if member is None or newsletter is None:
        raise NotFound(gettext("This unsubscribe link belongs to no member or newsletter."), code="not_found")
    return member, newsletter


@transaction.atomic
def newsletter_unsubscribe(*, token: str) -> Member:
    """One-click unsubscribe from a newsletter link: the member's marketing consent is withdrawn and the
    delivery records when. Running it again changes nothing."""
    member, newsletter = unsubscribe_target_get(token=token)
    member = member_profile_update(member=member, marketing_consent=False)
    NewsletterDelivery.objects.filter(newsletter=newsletter, member=member, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now())
    return member


# ----------------------------------------------------------------------------------------------- stats
def newsletter_stats_annotate(qs: QuerySet[Newsletter]) -> QuerySet[Newsletter]:
    """Recipients, sent, failed and unsubscribed per newsletter, in the same query as the list."""
    status = NewsletterDelivery.Status
    return qs.annotate(
        n_recipients=Count("deliveries"),
        n_sent=Count("deliveries", filter=Q(deliveries__status=status.SENT)),
        n_failed=Count("deliveries", filter=Q(deliveries__status=status.FAILED)),
        n_unsubscribed=Count("deliveries", filter=Q(deliveries__unsubscribed_at__isnull=False)),
    )


def newsletter_deliveries_erase(*, member, now, **kwargs) -> None:
    """members' `member_erasing`: the addresses the member's newsletters went to are forgotten (the deliveries stay,
    for the once-per-member rule and the send statistics)."""
    NewsletterDelivery.objects.filter(member=member).exclude(email="").update(email="")
