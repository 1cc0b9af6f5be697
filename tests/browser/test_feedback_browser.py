"""Feedback in a real browser: a survey answered from its e-mailed link without logging in, a review of a
bought product, and a complaint followed in "My feedback"."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from feedback.models import FeedbackRecord, Review, Survey, SurveyAnswer, SurveyQuestion
from feedback.services import feedback_status_change, invitation_create, invitation_token
from loyalty.services import ItemIn, PurchaseIn, purchase_record
from tests.browser.conftest import log_in
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_survey_from_its_link_without_logging_in(page: Page):
    member = MemberFactory()
    survey = Survey.objects.create(title="How did we do?", trigger="after_purchase", bonus_points=10)
    nps = SurveyQuestion.objects.create(survey=survey, order=1, kind="nps", text="Would you recommend us?")
    SurveyQuestion.objects.create(survey=survey, order=2, kind="text", text="Anything else?", required=False)
    token = invitation_token(invitation=invitation_create(survey=survey, member=member, key="purchase:1"))

    page.goto(f"/surveys/answer/{token}/")
    expect(page.locator("h1")).to_have_text("How did we do?")
    page.locator(f"fieldset[data-question='{nps.pk}'] input[value='9']").check()
    page.locator("textarea").fill("<script>alert(1)</script> lovely shop")
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))
    page.get_by_test_id("survey-submit").click()
    expect(page.locator("main")).to_contain_text("Thank")
    assert SurveyAnswer.objects.get(question=nps).score == 9
    page.goto(f"/surveys/answer/{token}/")  # the link is single-use
    expect(page.locator("main")).to_contain_text("already")


def test_review_a_bought_product_and_send_a_complaint(page: Page, settings):
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0  # the purchase is past its return window at once: verified
    member = MemberFactory()
    purchase_record(data=PurchaseIn(
        member_id=member.pk, order_id="B-1", amount=Decimal("20.00"), currency="EUR",
        occurred_at=timezone.now() - timedelta(minutes=5),
        items=(ItemIn(sku="MUG-1", name="Blue mug", category="cups", quantity=1, unit_price=Decimal("20.00")),),
    ))
    log_in(page, member, next_url="/reviews/")
    expect(page.locator("main")).to_contain_text("MUG-1")
    page.locator("main").get_by_role("link", name="Review", exact=True).click()
    expect(page.locator("main")).to_contain_text("Verified purchase")
    page.locator("select[name=rating]").select_option("5")
    page.locator("input[name=title]").fill("Lovely mug")
    page.locator("textarea[name=text]").fill("Keeps coffee warm.")
    page.get_by_test_id("submit-review").click()
    review = Review.objects.get(member=member)
    assert (review.sku, review.rating, review.verified, review.status) == ("MUG-1", 5, True, "pending")

    page.goto("/feedback/")
    page.locator("select[name=kind]").select_option("complaint")
    page.locator("select[name=category]").select_option("delivery")
    page.locator("textarea[name=text]").fill("The parcel came late.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message-success")).to_contain_text("Thank you")
    record = FeedbackRecord.objects.get(member=member)
    assert (record.channel, record.kind, record.category) == ("portal", "complaint", "delivery")
    feedback_status_change(record_id=record.pk, status="resolved", note="We changed courier.")
    page.reload()
    expect(page.get_by_test_id("feedback-list")).to_contain_text("Resolved")
    expect(page.get_by_test_id("feedback-list")).to_contain_text("We changed courier.")
