"""The permission matrix (DESIGN.md invariant 6, docs/roles.md): every admin page, every API endpoint, the
dashboard and every portal page, walked over HTTP as each kind of caller, against the expected outcome written
here and in docs/roles.md.

The pages and endpoints are enumerated at run time (admin.site._registry and each ModelAdmin's get_urls(),
config.urls.api_v1, config.urls.portal, backoffice.views.dashboard.urlpatterns), so a page added later without a row in
the matrix fails `..._is_in_the_matrix`. Each test walks a whole surface and reports every mismatch at once.
`test_docs_roles_md_agrees_with_the_matrix` keeps docs/roles.md and the tables below in step.

Callers: a program manager and a support agent (staff users in the groups of backoffice/roles.py, no member
record), a customer (a member's session), integration tokens (one holding exactly the scope the endpoint names,
one holding every other scope) and anonymous.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from backoffice.models import MetricSnapshot, Newsletter, NewsletterDelivery
from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from backoffice.services import heartbeat_record, staff_groups_sync
from backoffice.views import dashboard
from campaigns.models import Offer
from campaigns.services.offers import offer_assign
from config import urls as config_urls
from feedback.models import ResponseTime, Survey, SurveyQuestion, SurveyResponse
from feedback.services import feedback_record, invitation_create, invitation_token, review_create
from gamification.models import Badge, Challenge
from loyalty.models import Purchase
from loyalty.services import points_adjust
from members.models import IntegrationToken, Member, Scope
from members.services import integration_token_create
from members.services.consent import consent_token_make
from rewards.models import ChallengeReward, Reward
from rewards.services import reward_redeem
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES_MD = Path(__file__).resolve().parent.parent / "docs" / "roles.md"
PM, SA = "program manager", "support agent"
STAFF_ROLES = (PM, SA)

# ------------------------------------------------------------------------------------------- the matrix
# Admin models: what each role may do with each registered ModelAdmin (superusers: everything the ModelAdmin allows
# at all). "view" = the change list, the history and the object page (read-only unless "change"); "add" = the add
# page; "change" = the object page is editable (has_change_permission in its context); "delete" = the delete page.
# Pages a role may not use answer 403. Columns: (program manager, support agent).
ADMIN_MODELS: dict[str, tuple[str, str]] = {
    "account.EmailAddress": ("", ""),
    "usersessions.UserSession": ("", ""),  # members' sessions: superusers only (members see theirs in the portal)
    "auth.Group": ("", ""),
    "backoffice.Heartbeat": ("view", ""),
    "campaigns.Offer": ("view add change", ""),
    "campaigns.OfferAssignment": ("view", ""),
    "backoffice.MetricSnapshot": ("view", ""),
    "backoffice.Newsletter": ("view add change", ""),
    "backoffice.NewsletterDelivery": ("view", ""),
    "django_celery_beat.ClockedSchedule": ("", ""),
    "django_celery_beat.CrontabSchedule": ("", ""),
    "django_celery_beat.IntervalSchedule": ("", ""),
    "django_celery_beat.PeriodicTask": ("view change", ""),
    "django_celery_beat.SolarSchedule": ("", ""),
    "feedback.FeedbackRecord": ("view change", "view add change"),
    "feedback.ResponseTime": ("view add change", "view"),
    "feedback.Review": ("view change", ""),
    "feedback.Survey": ("view add change delete", ""),
    "feedback.SurveyInvitation": ("view", ""),
    "feedback.SurveyResponse": ("view", "view"),
    "gamification.Badge": ("view add change", ""),
    "gamification.Challenge": ("view add change", ""),
    "loyalty.EarningRule": ("view add change delete", ""),
    "loyalty.LedgerEntry": ("view", "view"),
    "loyalty.PointsLot": ("view", ""),
    "loyalty.Purchase": ("view", "view"),
    "members.IntegrationToken": ("", ""),
    "members.Member": ("view change", "view"),
    "members.Tier": ("view add change delete", ""),
    "members.User": ("", ""),
    "rewards.ChallengeReward": ("view add change delete", ""),
    "rewards.Redemption": ("view", "view"),
    "rewards.Reward": ("view add change delete", ""),
    "rewards.Voucher": ("view", "view"),
}
# The change-list actions each role is offered (ModelAdmin.get_actions: what a POSTed action is checked against).
ADMIN_ACTIONS: dict[str, tuple[str, str]] = {
    "backoffice.Newsletter": ("preview_to_me send_now schedule unschedule", ""),
    "campaigns.Offer": ("assign_now", ""),
    "django_celery_beat.PeriodicTask": ("enable_tasks disable_tasks toggle_tasks run_tasks", ""),
    "feedback.Review": ("approve_reviews reject_reviews", ""),
    "feedback.Survey": ("delete_selected", ""),
    "loyalty.EarningRule": ("delete_selected", ""),
    "members.Member": ("erase_personal_data", ""),
    "members.Tier": ("delete_selected", ""),
    "rewards.ChallengeReward": ("delete_selected", ""),
    "rewards.Reward": ("delete_selected activate deactivate", ""),
    "rewards.Voucher": ("cancel_vouchers", ""),
}  # every other registered model: no action for either role
# Custom admin pages (ModelAdmin.get_urls() beyond the standard ones), by URL name: (method, program manager,
# support agent). 302 on `run`: the rollup is queued and the browser is sent back to the snapshot list.
ADMIN_CUSTOM: dict[str, tuple[str, str, str]] = {
    "backoffice_metricsnapshot_run": ("POST", "302", "403"),
    "loyalty_ledgerentry_adjust": ("GET", "200", "403"),
    "auth_user_password_change": ("GET", "403", "403"),  # Django names it so for any user model
    "rewards_reward_export": ("GET", "200", "403"),
    "rewards_reward_import": ("GET", "200", "403"),
    "rewards_reward_process_import": ("POST", "200", "403"),
}
# The admin site's own pages (admin.site.get_urls() that are not a model's), by URL name; app indexes as
# app_list:<label> (404 where the role sees no model of the app). "-": not walked here (see the note).
ADMIN_SITE: dict[str, tuple[str, str, str]] = {
    "index": ("GET", "200", "200"),
    "login": ("GET", "302", "302"),  # a logged-in staff user is sent on to the index
    "logout": ("GET", "405", "405"),  # POST only (logging out is not a permission question)
    "password_change": ("GET", "200", "200"),
    "password_change_done": ("GET", "200", "200"),
    "jsi18n": ("GET", "200", "200"),
    "autocomplete": ("-", "-", "-"),  # per field: test_admin_autocomplete_follows_view_permission
    "view_on_site": ("GET", "404", "404"),  # no registered model has get_absolute_url
    "app_list:account": ("GET", "404", "404"),
    "app_list:usersessions": ("GET", "404", "404"),
    "app_list:auth": ("GET", "404", "404"),
    "app_list:backoffice": ("GET", "200", "404"),
    "app_list:campaigns": ("GET", "200", "404"),
    "app_list:django_celery_beat": ("GET", "200", "404"),
    "app_list:feedback": ("GET", "200", "200"),
    "app_list:gamification": ("GET", "200", "404"),
    "app_list:loyalty": ("GET", "200", "200"),
    "app_list:members": ("GET", "200", "200"),
    "app_list:rewards": ("GET", "200", "200"),
}
# The metrics dashboard (backoffice.views.dashboard.urlpatterns, permission backoffice.view_metricsnapshot).
DASHBOARD: dict[str, tuple[str, str]] = {
    "backoffice-dashboard": ("200", "403"),
    "backoffice-dashboard?format=csv": ("200", "403"),  # every table= of the CSV export
    "backoffice-dashboard-segment": ("200", "403"),
    "backoffice-dashboard-segment?format=csv": ("200", "403"),
    # E-mail previews (backoffice/views/emails.py): backoffice.view_newsletter.
    "backoffice-emails": ("200", "403"),
    "backoffice-email": ("200", "403"),
    "backoffice-email-html": ("200", "403"),
}
# API (config.urls.api_v1), by (URL name, method): anonymous, customer, support agent, program manager, token with
# the scope the view names, token with every other scope. "yes" = allowed (any answer but 401/403 and 5xx: the
# bodies sent are empty, so 400/404/409 are fine). Where a view names no scope, the token columns are a token
# with every scope and a token with none.
API_CALLERS = ("anonymous", "customer", SA, PM, "token with scope", "token without scope")
_MEMBER = ("401", "yes", "403", "403", "403", "403")
_PUBLIC = ("yes", "yes", "yes", "yes", "yes", "yes")
_INTEGRATION = ("401", "403", "403", "403", "yes", "403")
_METRICS = ("401", "403", "403", "yes", "yes", "403")
API: dict[tuple[str, str], tuple[str, ...]] = {
    ("me", "GET"): _MEMBER,
    ("me", "PATCH"): _MEMBER,
    ("me-ledger", "GET"): _MEMBER,
    ("me-referral", "POST"): _MEMBER,
    ("me-challenges", "GET"): _MEMBER,
    ("me-challenge-join", "POST"): _MEMBER,
    ("me-badges", "GET"): _MEMBER,
    ("me-offers", "GET"): _MEMBER,
    ("me-offer-activate", "POST"): _MEMBER,
    ("me-redemptions", "POST"): _MEMBER,
    ("me-vouchers", "GET"): _MEMBER,
    ("me-surveys", "GET"): _MEMBER,
    ("me-survey-responses", "GET"): _MEMBER,
    ("me-survey-responses", "POST"): _MEMBER,
    ("me-voucher-cancel", "POST"): _MEMBER,
    ("me-reviews", "GET"): _MEMBER,
    ("me-reviews", "POST"): _MEMBER,
    ("me-review", "PATCH"): _MEMBER,
    ("me-export", "GET"): _MEMBER,
    ("me-erasure", "POST"): _MEMBER,
    ("reward-list", "GET"): _PUBLIC,
    ("product-reviews", "GET"): _PUBLIC,
    ("survey-link", "GET"): _PUBLIC,  # the signed link in the URL is the credential
    ("survey-link", "POST"): _PUBLIC,
    ("challenge-board", "GET"): _PUBLIC,
    ("leaderboard", "GET"): _PUBLIC,
    ("member-list", "GET"): _INTEGRATION,
    ("member-list", "POST"): _INTEGRATION,
    ("member-detail", "GET"): _INTEGRATION,
    ("member-ledger", "GET"): _INTEGRATION,
    ("member-offers", "GET"): _INTEGRATION,
    ("purchase-create", "POST"): _INTEGRATION,
    ("purchase-batch", "POST"): _INTEGRATION,
    ("return-create", "POST"): _INTEGRATION,
    ("feedback-create", "POST"): _INTEGRATION,
    ("metrics-summary", "GET"): _METRICS,
    ("metrics-periods", "GET"): _METRICS,
    ("campaign-results", "GET"): _METRICS,  # staff who may see offers (the program manager), or metrics:read
    ("redemption-create", "POST"): _INTEGRATION,
    ("voucher-check", "GET"): _INTEGRATION,
    ("voucher-use", "POST"): _INTEGRATION,
}
# Portal pages (config.urls.portal, GET), by URL name: anonymous, customer, staff without a member record.
# "login" = 302 to the login page; 302 elsewhere: the referral link goes to sign-up, review-write without ?sku=
# back to the reviews, and pages that only make sense for a member send a login without one home; 405: POST-only.
PORTAL_CALLERS = ("anonymous", "customer", "staff without member")
PORTAL: dict[str, tuple[str, str, str]] = {
    "home": ("200", "200", "200"),
    "points": ("login", "200", "200"),
    "challenges": ("login", "200", "200"),
    "challenge-join": ("login", "405", "405"),
    "challenge-board": ("login", "200", "302"),
    "leaderboards": ("login", "200", "200"),
    "offers": ("login", "200", "200"),
    "offer-activate": ("login", "405", "405"),
    "leaderboard-settings": ("login", "405", "405"),
    "leaderboard": ("login", "200", "200"),
    "referral": ("302", "302", "302"),
    "language": ("405", "405", "405"),  # POST-only, for everyone (guests choose a language too)
    "profile": ("login", "200", "200"),
    "profile-data": ("login", "200", "200"),
    "profile-delete": ("login", "200", "200"),
    "consent-confirm": ("200", "200", "200"),  # the signed link is the credential
    "card": ("login", "200", "200"),
    "card-qr": ("login", "200", "302"),  # images of the member's own number: a login without one is sent home
    "card-barcode": ("login", "200", "302"),
    "referrals": ("login", "200", "200"),
    "rewards": ("login", "200", "200"),
    "reward": ("login", "200", "200"),
    "redeem": ("login", "200", "200"),
    "vouchers": ("login", "200", "200"),
    "voucher": ("login", "200", "200"),
    "voucher-cancel": ("login", "200", "200"),
    "how-it-works": ("200", "200", "200"),  # public
    "feedback": ("login", "200", "302"),
    "reviews": ("login", "200", "200"),
    "review-write": ("login", "302", "200"),
    "review-edit": ("login", "200", "200"),
    "surveys": ("login", "200", "200"),
    "survey-open": ("login", "200", "302"),
    "survey-answer": ("200", "200", "200"),  # the signed link is the credential
}

STANDARD_ADMIN_PAGES = ("changelist", "add", "history", "delete", "change")
OPS = ("view", "add", "change", "delete")


# ------------------------------------------------------------------------------------------------ data
@dataclass
class World:
    manager: Any
    agent: Any
    customer: Member
    objects: dict[str, Any]  # model label -> a row for its object pages
    samples: dict[str, Any]  # URL kwarg -> value
    tokens: dict[str, str] = field(default_factory=dict)  # "with:<scope>" / "without:<scope>" -> raw secret


def _staff(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def _world_build() -> World:
    call_command("seed_demo", "--force", stdout=io.StringIO())  # tiers, rewards, members, purchases, a voucher
    staff_groups_sync()
    manager, agent = _staff(PROGRAM_MANAGER), _staff(SUPPORT_AGENT)
    customer = MemberFactory()
    points_adjust(member=customer, points=5000, reason="Opening balance", author=manager)
    reward = Reward.objects.create(name="Matrix reward", kind=Reward.Kind.FIXED_DISCOUNT, value=Decimal("5.00"),
                                   cost_points=100)
    redemption, _ = reward_redeem(member_id=customer.pk, reward_id=reward.pk, source="portal",
                                  idempotency_scope=f"member:{customer.pk}", idempotency_key="matrix")
    review = review_create(member=customer, sku="MATRIX-1", rating=5, title="Good beans", text="Very good coffee.")
    survey = Survey.objects.create(title="Open survey", trigger=Survey.Trigger.ALWAYS_OPEN)
    SurveyQuestion.objects.create(survey=survey, kind=SurveyQuestion.Kind.NPS, text="Would you recommend us?")
    invitation = invitation_create(survey=survey, member=customer, key="matrix")
    other = Member.objects.exclude(pk=customer.pk).order_by("pk").first()
    SurveyResponse.objects.create(survey=survey, member=other)
    feedback_record(member=customer, channel="phone", category="service", text="Where are my points?")
    ResponseTime.objects.get_or_create(category="service", defaults={"hours": 24})
    now = timezone.now()
    badge = Badge.objects.create(name="Matrix badge", how_to_earn="Buy three times.")
    challenge = Challenge.objects.create(title="Three purchases", starts_at=now - timedelta(days=1),
                                         ends_at=now + timedelta(days=30), goal=Challenge.Goal.PURCHASES,
                                         target=Decimal("3"), badge=badge)
    ChallengeReward.objects.create(challenge=challenge, reward=reward)
    heartbeat_record(name="matrix")
    today = now.date()
    for period in (MetricSnapshot.Period.ALL, MetricSnapshot.Period.MONTH):
        # seed_demo's rollup may hold this day already (it rolls up yesterday in program time, which is the UTC
        # today for the hour after midnight in Berlin): the sample snapshot replaces it.
        MetricSnapshot.objects.update_or_create(
            period=period, as_of=today, period_start=today.replace(day=1),
            defaults={"period_end": today + timedelta(days=1),
                      "metrics": {"revenue": "100.00", "customers": 1, "orders": 1}})
    newsletter = Newsletter.objects.create(subject="Matrix news", body_markdown="Hello {first_name}")  # a draft
    NewsletterDelivery.objects.create(newsletter=newsletter, member=customer, email=customer.email or "m@x.test")
    offer = Offer.objects.create(name="Matrix offer", starts_at=now, ends_at=now + timedelta(days=7),
                                 benefit=Offer.Benefit.BONUS, bonus_points=10, needs_activation=True,
                                 holdout_percent=0)
    offer_assign(offer=offer, now=now)
    from django_celery_beat.models import ClockedSchedule, SolarSchedule

    ClockedSchedule.objects.create(clocked_time=now)
    SolarSchedule.objects.create(event="sunrise", latitude=Decimal("52.52"), longitude=Decimal("13.40"))

    tokens = {}
    for scope in Scope.values:
        tokens[f"with:{scope}"] = integration_token_create(name=f"only {scope}", scopes=[scope])[1]
        others = [s for s in Scope.values if s != scope]
        tokens[f"without:{scope}"] = integration_token_create(name=f"all but {scope}", scopes=others)[1]
    tokens["with:"] = integration_token_create(name="every scope", scopes=None)[1]
    none, tokens["without:"] = integration_token_create(name="no scope", scopes=[Scope.METRICS_READ])
    IntegrationToken.objects.filter(pk=none.pk).update(scopes=[])

    objects = {"members.User": customer.user, "members.Member": customer, "backoffice.Newsletter": newsletter,
               "rewards.Reward": reward, "rewards.Voucher": redemption.voucher, "rewards.Redemption": redemption}
    purchase = Purchase.objects.order_by("pk").first()
    samples = {
        "challenge_id": challenge.pk, "survey_id": survey.pk, "voucher_id": redemption.voucher.pk,
        "review_id": review.pk, "sku": "MATRIX-1", "token": invitation_token(invitation=invitation),
        "period": "weekly", "member_id": customer.pk, "order_id": purchase.order_id, "code": redemption.voucher.code,
        "reward_id": reward.pk, "segment": "champions", "language": "pl", "message": "feedback/resolved",
        "consent_token": consent_token_make(member=customer, wording="Yes"),
        "offer_id": offer.pk,
    }
    return World(manager=manager, agent=agent, customer=customer, objects=objects, samples=samples, tokens=tokens)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end (each test's own changes are
    rolled back by its savepoint as usual)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _world_build()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Hundreds of requests per caller in a few seconds: rate limits are another test's business."""
    settings.FIDELIO_THROTTLE_RATES = {"anon": "100000/min", "customer": "100000/min", "token": "100000/min"}
    settings.FIDELIO_MEMBER_WRITE_RATE = "100000/hour"


def _staff_clients(world: World) -> dict[str, Client]:
    clients = {}
    for role, user in ((PM, world.manager), (SA, world.agent)):
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def _status(code: int) -> str:
    return str(code)


def _report(mismatches: list[str]) -> str:
    return f"{len(mismatches)} permission mismatch(es):\n  " + "\n  ".join(mismatches)


def _is_standard(name: str, model) -> bool:
    prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
    return name in {prefix + page for page in STANDARD_ADMIN_PAGES}


def _row_for(model) -> Any:
    return model._default_manager.order_by("pk").first()


# ---------------------------------------------------------------------------------------------- admin
def test_every_admin_model_and_custom_page_is_in_the_matrix():
    registered = {model._meta.label for model in admin.site._registry}
    assert registered - set(ADMIN_MODELS) == set(), "registered ModelAdmins missing from ADMIN_MODELS"
    assert set(ADMIN_MODELS) - registered == set(), "ADMIN_MODELS names models that are not registered"
    assert set(ADMIN_ACTIONS) <= registered
    for label, cells in ADMIN_MODELS.items():
        for ops in cells:
            assert set(ops.split()) <= set(OPS), label
            assert "change" not in ops.split() or "view" in ops.split(), f"{label}: change implies view"
    custom = set()
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            if pattern.name is None:
                assert str(pattern.pattern) == "<path:object_id>/", f"unnamed custom admin URL on {model}"
                continue  # the redirect to the change page
            if not _is_standard(pattern.name, model):
                custom.add(pattern.name)
    assert custom - set(ADMIN_CUSTOM) == set(), "custom admin pages missing from ADMIN_CUSTOM"
    assert set(ADMIN_CUSTOM) - custom == set(), "ADMIN_CUSTOM names pages that do not exist"
    site = set()
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLPattern) and pattern.name:
            if pattern.name == "app_list":
                site |= {f"app_list:{m._meta.app_label}" for m in admin.site._registry}
            else:
                site.add(pattern.name)
    assert site - set(ADMIN_SITE) == set(), "admin site pages missing from ADMIN_SITE"
    assert set(ADMIN_SITE) - site == set(), "ADMIN_SITE names pages that do not exist"


def test_admin_model_pages_follow_the_matrix(world, capsys):
    clients = _staff_clients(world)
    mismatches, skipped = [], []
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        label, opts = model._meta.label, model._meta
        expected_ops = dict(zip(STAFF_ROLES, (set(c.split()) for c in ADMIN_MODELS.get(label, ("", ""))),
                                strict=True))
        if label not in ADMIN_MODELS:
            mismatches.append(f"{label}: not in the matrix")
            continue
        info = f"admin:{opts.app_label}_{opts.model_name}"
        obj = world.objects.get(label) or _row_for(model)
        pages = [("list", reverse(f"{info}_changelist"), "view"), ("add", reverse(f"{info}_add"), "add")]
        if obj is None:
            skipped.append(label)
        else:
            pages += [("change", reverse(f"{info}_change", args=[obj.pk]), "view"),
                      ("history", reverse(f"{info}_history", args=[obj.pk]), "view"),
                      ("delete", reverse(f"{info}_delete", args=[obj.pk]), "delete")]
        for role in STAFF_ROLES:
            ops = expected_ops[role]
            for page, url, needs in pages:
                response = clients[role].get(url)
                want = "200" if needs in ops else "403"
                got = _status(response.status_code)
                if got != want:
                    mismatches.append(f"GET {url} as {role}: expected {want}, got {got}")
                elif page == "change" and got == "200":
                    editable = bool((response.context_data or {}).get("has_change_permission"))
                    if editable != ("change" in ops):
                        mismatches.append(f"GET {url} as {role}: expected "
                                          f"{'an editable' if 'change' in ops else 'a read-only'} page, got "
                                          f"{'an editable' if editable else 'a read-only'} one")
    if skipped:
        with capsys.disabled():
            print(f"\n[permission matrix] no row to open, object pages not walked for: {', '.join(skipped)}")
    assert not mismatches, _report(mismatches)


def test_admin_actions_follow_the_matrix(world):
    """The actions each role is offered on the change lists it can open (the list a POSTed action is checked
    against); a change list the role cannot open offers nothing."""
    clients = _staff_clients(world)
    mismatches = []
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        label, opts = model._meta.label, model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        for role, expected in zip(STAFF_ROLES, ADMIN_ACTIONS.get(label, ("", "")), strict=True):
            response = clients[role].get(url)
            offered = set()
            if response.status_code == 200 and response.context_data.get("action_form") is not None:
                offered = {name for name, _ in response.context_data["action_form"].fields["action"].choices
                           if name}
            if offered != set(expected.split()):
                mismatches.append(f"{label} actions as {role}: expected {sorted(expected.split())}, "
                                  f"got {sorted(offered)}")
    assert not mismatches, _report(mismatches)


def _custom_admin_urls() -> dict[str, tuple[str, Any]]:
    found = {}
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            if pattern.name and not _is_standard(pattern.name, model):
                found[pattern.name] = (pattern, model)
    return found


def test_admin_custom_and_site_pages_follow_the_matrix(world, monkeypatch):
    from backoffice.admin import metrics as admin_metrics

    queued = []
    monkeypatch.setattr(admin_metrics.metrics_rollup_daily, "delay", lambda **kw: queued.append(kw))
    clients = _staff_clients(world)
    mismatches = []
    for name, (pattern, model) in sorted(_custom_admin_urls().items()):
        method, *expected = ADMIN_CUSTOM[name]
        kwargs = {key: (world.objects.get(model._meta.label) or _row_for(model)).pk
                  for key in pattern.pattern.converters}
        url = reverse(f"admin:{name}", kwargs=kwargs)
        for role, want in zip(STAFF_ROLES, expected, strict=True):
            response = clients[role].generic(method, url)
            if _status(response.status_code) != want:
                mismatches.append(f"{method} {url} as {role}: expected {want}, got {response.status_code}")
    member_ct = ContentType.objects.get_for_model(Member)
    for name, (method, *expected) in sorted(ADMIN_SITE.items()):
        if method == "-":
            continue
        if name.startswith("app_list:"):
            url = reverse("admin:app_list", kwargs={"app_label": name.split(":", 1)[1]})
        elif name == "view_on_site":
            url = reverse("admin:view_on_site", args=[member_ct.pk, world.customer.pk])
        else:
            url = reverse(f"admin:{name}")
        for role, want in zip(STAFF_ROLES, expected, strict=True):
            response = clients[role].generic(method, url)
            if _status(response.status_code) != want:
                mismatches.append(f"{method} {url} as {role}: expected {want}, got {response.status_code}")
    assert not mismatches, _report(mismatches)


def _autocomplete_fields() -> list[tuple[Any, str]]:
    fields = []
    for model, model_admin in admin.site._registry.items():
        fields += [(model, name) for name in model_admin.autocomplete_fields]
        for inline in model_admin.inlines:
            fields += [(inline.model, name) for name in inline.autocomplete_fields]
    return sorted(fields, key=lambda f: (f[0]._meta.label, f[1]))


def test_admin_autocomplete_follows_view_permission(world):
    """The autocomplete widget's JSON answers whoever may view the model it searches (Django's rule)."""
    clients = _staff_clients(world)
    mismatches = []
    for model, name in _autocomplete_fields():
        target = model._meta.get_field(name).remote_field.model._meta.label
        for role, ops in zip(STAFF_ROLES, ADMIN_MODELS[target], strict=True):
            want = "200" if "view" in ops.split() else "403"
            response = clients[role].get(reverse("admin:autocomplete"), {
                "app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": name,
                "term": ""})
            if _status(response.status_code) != want:
                mismatches.append(f"autocomplete {model._meta.label}.{name} as {role}: expected {want}, "
                                  f"got {response.status_code}")
    assert not mismatches, _report(mismatches)


def test_dashboard_follows_the_matrix(world):
    clients = _staff_clients(world)
    names = {p.name for p in dashboard.urlpatterns}
    assert names == {key.split("?")[0] for key in DASHBOARD}, "dashboard URLs and DASHBOARD differ"
    mismatches = []
    for key, expected in DASHBOARD.items():
        name, _, query = key.partition("?")
        pattern = next(p for p in dashboard.urlpatterns if p.name == name)
        url = reverse(name, kwargs={k: world.samples[k] for k in pattern.pattern.converters})
        queries = [query] if query else [""]
        if name == "backoffice-dashboard" and query:
            queries = [f"{query}&table={t}" for t in ("series", "tiles", "cohorts", "segments", "tiers", "clv")]
        for q in queries:
            for role, want in zip(STAFF_ROLES, expected, strict=True):
                response = clients[role].get(f"{url}?{q}" if q else url)
                if _status(response.status_code) != want:
                    mismatches.append(f"GET {url}?{q} as {role}: expected {want}, got {response.status_code}")
    assert not mismatches, _report(mismatches)


# ------------------------------------------------------------------------------------------------ API
def _api_endpoints() -> list[tuple[URLPattern, str]]:
    endpoints = []
    for pattern in config_urls.api_v1:
        view_class = pattern.callback.view_class
        for method in ("get", "post", "put", "patch", "delete"):
            if method in view_class.http_method_names and hasattr(view_class, method):
                endpoints.append((pattern, method.upper()))
    return endpoints


def test_every_api_endpoint_is_in_the_matrix():
    found = {(pattern.name, method) for pattern, method in _api_endpoints()}
    assert found - set(API) == set(), "API endpoints missing from the matrix"
    assert set(API) - found == set(), "the matrix names API endpoints that do not exist"


def _token_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _outcome(response) -> str:
    if response.status_code >= 500:
        return f"{response.status_code}"
    if response.status_code in (401, 403):
        return str(response.status_code)
    return "yes"


def test_api_follows_the_matrix(world):
    sessions = {"anonymous": APIClient(), "customer": APIClient(), SA: APIClient(), PM: APIClient()}
    sessions["customer"].force_login(world.customer.user)
    sessions[SA].force_login(world.agent)
    sessions[PM].force_login(world.manager)
    mismatches = []
    for pattern, method in _api_endpoints():
        key = (pattern.name, method)
        if key not in API:
            mismatches.append(f"{method} {pattern.name}: not in the matrix")
            continue
        missing = [k for k in pattern.pattern.regex.groupindex if k not in world.samples]
        assert not missing, f"{pattern.name}: give the URL kwargs {missing} a sample value in _world_build"
        url = reverse(f"api:{pattern.name}", kwargs={k: world.samples[k] for k in pattern.pattern.regex.groupindex})
        scope = (getattr(pattern.callback.view_class, "token_scopes", None) or {}).get(method) or ""
        callers = {**sessions, "token with scope": _token_client(world.tokens[f"with:{scope}"]),
                   "token without scope": _token_client(world.tokens[f"without:{scope}"])}
        for caller, want in zip(API_CALLERS, API[key], strict=True):
            body = {} if method == "GET" else {"data": json.dumps({}), "content_type": "application/json"}
            response = callers[caller].generic(method, url, **body)
            got = _outcome(response)
            if got != want:
                mismatches.append(f"{method} {url} as {caller}: expected {want}, got {response.status_code} "
                                  f"{response.content[:120]!r}")
            elif caller == "token without scope" and want == "403" and scope:
                code = response.json().get("code")
                if code != "insufficient_scope":
                    mismatches.append(f"{method} {url} as {caller}: expected code insufficient_scope, got {code}")
    assert not mismatches, _report(mismatches)


# --------------------------------------------------------------------------------------------- portal
def _portal_patterns() -> list[URLPattern]:
    patterns = []
    for pattern in config_urls.portal:
        assert not isinstance(pattern, URLResolver), "a nested include in the portal: walk it here too"
        patterns.append(pattern)
    return patterns


def test_every_portal_page_is_in_the_matrix():
    found = {pattern.name for pattern in _portal_patterns()}
    assert found - set(PORTAL) == set(), "portal pages missing from the matrix"
    assert set(PORTAL) - found == set(), "the matrix names portal pages that do not exist"


def test_portal_pages_follow_the_matrix(world):
    clients = dict(zip(PORTAL_CALLERS, (Client(), Client(), Client()), strict=True))
    clients["customer"].force_login(world.customer.user)
    clients["staff without member"].force_login(world.agent)
    samples = {**world.samples, "code": world.customer.referral_code}
    login = reverse("account_login")
    mismatches = []
    for pattern in _portal_patterns():
        url = reverse(f"portal:{pattern.name}", kwargs={k: samples[k] for k in pattern.pattern.converters})
        for caller, want in zip(PORTAL_CALLERS, PORTAL.get(pattern.name, ("?", "?", "?")), strict=True):
            response = clients[caller].get(url)
            got = _status(response.status_code)
            if got == "302" and response["Location"].startswith(login):
                got = "login"
            if got != want:
                mismatches.append(f"GET {url} as {caller}: expected {want}, got {got}")
    assert not mismatches, _report(mismatches)


# ------------------------------------------------------------------------------------------ docs/roles.md
def _doc_table(heading: str, keys: int = 1) -> dict[str, list[str]]:
    """The rows of the first table under `## heading` in docs/roles.md, keyed by their first `keys` cells
    (backticks stripped; cells normalised to single spaces, "—" for nothing)."""
    text = ROLES_MD.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"docs/roles.md has no section '## {heading}'"
    rows = {}
    for line in match.group(1).splitlines():
        if not line.startswith("| `"):
            continue
        cells = [" ".join(c.replace("`", "").replace(",", " ").split()) for c in line.strip().strip("|").split("|")]
        rows[" ".join(cells[:keys])] = cells[keys:]
    return rows


def _cell(words: str) -> str:
    return words if words else "—"


def test_docs_roles_md_agrees_with_the_matrix():
    problems = []

    def compare(section: str, doc: dict, expected: dict) -> None:
        for key in sorted(set(doc) | set(expected)):
            if doc.get(key) != expected.get(key):
                problems.append(f"{section} / {key}: docs/roles.md says {doc.get(key)}, the test {expected.get(key)}")

    compare("Admin: models", _doc_table("Admin: models"), {
        label: [_cell(ops[0]), _cell(ops[1]), _cell(ADMIN_ACTIONS.get(label, ("", ""))[0]),
                _cell(ADMIN_ACTIONS.get(label, ("", ""))[1])]
        for label, ops in ADMIN_MODELS.items()})
    compare("Admin: custom pages", {k: [v[0], *v[2:]] for k, v in _doc_table("Admin: custom pages").items()},
            {k: list(v) for k, v in ADMIN_CUSTOM.items()})
    compare("Admin: site pages", {k: v[1:] for k, v in _doc_table("Admin: site pages").items()},
            {k: ["see autocomplete" if c == "-" else c for c in v[1:]] for k, v in ADMIN_SITE.items()})
    autocomplete = {}
    for model, name in _autocomplete_fields():
        target = model._meta.get_field(name).remote_field.model._meta.label
        autocomplete[f"{model._meta.label}.{name}"] = [
            target, *("200" if "view" in ops.split() else "403" for ops in ADMIN_MODELS[target])]
    compare("Admin: autocomplete", _doc_table("Admin: autocomplete"), autocomplete)
    compare("Dashboard", {k: v[1:] for k, v in _doc_table("Dashboard").items()},
            {k: list(v) for k, v in DASHBOARD.items()})
    scopes = {(p.name, m): (getattr(p.callback.view_class, "token_scopes", None) or {}).get(m) or "—"
              for p, m in _api_endpoints()}
    compare("API", {k: [v[1], *v[2:]] for k, v in _doc_table("API", keys=2).items()},
            {f"{name} {method}": [str(scopes.get((name, method))), *cells] for (name, method), cells in API.items()})
    compare("Portal pages", {k: v[1:] for k, v in _doc_table("Portal pages").items()},
            {k: list(v) for k, v in PORTAL.items()})
    assert not problems, "docs/roles.md and the test's matrix differ:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------------------- field-level findings
def test_program_manager_cannot_relink_a_member_to_another_login(world):
    """A program manager's "change" on members is not "choose whose login holds this balance". A member is
    linked to a login only by the customer claiming it with their verified e-mail
    (members.services.member_create_for_user). Program managers cannot even view users, so the member form must
    not let them point a member at any login, their own included (they would then spend its points in the
    portal). Fails today: the form offers `user` to anyone holding members.change_member."""
    client = Client()
    client.force_login(world.manager)
    member = Member.objects.get(pk=world.customer.pk)  # a copy: world.customer stays as it was
    linked = member.user_id
    url = reverse("admin:members_member_change", args=[member.pk])
    form = client.get(url).context_data["adminform"].form
    data = {}
    for name, form_field in form.fields.items():
        value = form.initial.get(name, form_field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else getattr(value, "pk", value)
    data["user"] = world.manager.pk
    client.post(url, data)
    member.refresh_from_db()
    assert member.user_id == linked, (
        f"POST {url} as program manager re-linked member {member.pk} to the manager's own login "
        f"(user {world.manager.pk})")
