"""What feedback erases of a member (members' `member_erasing`, inside the erasure's transaction): the free texts of
their survey answers and feedback records; their reviews stay under "Former member" or go, as
`FIDELIO_ERASURE_REVIEWS` says. Scores, ratings, categories and statuses stay for the metrics."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from feedback.models import FeedbackRecord, Review, SurveyAnswer
from members.models import Member


def feedback_erase(*, member: Member, now: datetime, **kwargs: object) -> None:
    SurveyAnswer.objects.filter(response__member=member).exclude(text="").update(text="")
    FeedbackRecord.objects.filter(member=member).update(text="")
    if settings.FIDELIO_ERASURE_REVIEWS == "remove":
        Review.objects.filter(member=member).delete()
