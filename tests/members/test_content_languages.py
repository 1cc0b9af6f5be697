"""Staff-entered content per language (django-modeltranslation): staff write a reward's name, a tier's benefits,
a newsletter … in each language in the admin; members read the one of their language, English where it is
missing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone, translation

from backoffice.models import Newsletter
from backoffice.roles import PROGRAM_MANAGER
from backoffice.services import newsletters
from members.models import Member, Tier
from rewards.models import Reward
from tests.factories import MemberFactory, RewardFactory, ShopMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_missing_translation_reads_as_english():
    reward = RewardFactory(name="Free coffee")
    Reward.objects.filter(pk=reward.pk).update(name_pl="Darmowa kawa")
    reward = Reward.objects.get(pk=reward.pk)
    with translation.override("pl"):
        assert reward.name == "Darmowa kawa"
    with translation.override("cs"):
        assert reward.name == "Free coffee"
    assert reward.name_en == "Free coffee"


def test_the_portal_shows_the_members_language(client):
    member = MemberFactory()
    Member.objects.filter(pk=member.pk).update(language="pl")
    reward = RewardFactory(name="Free coffee")
    Reward.objects.filter(pk=reward.pk).update(name_pl="Darmowa kawa")
    client.force_login(member.user)
    page = client.get("/rewards/", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "Darmowa kawa" in page and "Free coffee" not in page
    czech = MemberFactory()
    Member.objects.filter(pk=czech.pk).update(language="cs")
    client.force_login(czech.user)
    page = client.get("/rewards/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert "Free coffee" in page and "Darmowa kawa" not in page  # no Czech name: English


def test_staff_enter_each_language_in_the_admin(client):
    manager = UserFactory(is_staff=True)
    manager.groups.add(Group.objects.get(name=PROGRAM_MANAGER))
    client.force_login(manager)
    reward = RewardFactory(name="Free coffee")
    form = client.get(f"/admin/rewards/reward/{reward.pk}/change/").content.decode()
    for code in ("en", "pl", "cs", "ru", "el"):
        assert f'name="name_{code}"' in form and f'name="description_{code}"' in form
    tier = Tier.objects.order_by("rank").first() or Tier.objects.create(name="Bronze", rank=1)
    form = client.get(f"/admin/members/tier/{tier.pk}/change/").content.decode()
    assert 'name="benefits_pl"' in form


def test_a_newsletter_goes_out_in_each_members_language():
    polish, czech = ShopMemberFactory(), ShopMemberFactory()
    Member.objects.filter(pk=polish.pk).update(marketing_consent=True, language="pl")
    Member.objects.filter(pk=czech.pk).update(marketing_consent=True, language="cs")
    newsletter = Newsletter.objects.create(subject="Spring news", body_markdown="Hello **{first_name}**.")
    Newsletter.objects.filter(pk=newsletter.pk).update(subject_pl="Wiosenne nowości",
                                                       body_markdown_pl="Cześć **{first_name}**.")
    newsletter.refresh_from_db()
    newsletters.newsletter_schedule(newsletter=newsletter, when=timezone.now())
    newsletters.newsletter_send_run(newsletter_id=newsletter.pk)
    by_address = {message.to[0]: message for message in mail.outbox}
    pl, cs = by_address[polish.email], by_address[czech.email]
    assert pl.subject == "Wiosenne nowości" and "Cześć" in pl.body
    assert '<html lang="pl">' in pl.alternatives[0][0]
    assert cs.subject == "Spring news" and "Hello" in cs.body  # no Czech text: English
    assert '<html lang="cs">' in cs.alternatives[0][0]
