"""Feedback reads that other apps take part in: a member's reviews, survey answers and feedback records in their
personal-data export (members.services.personal_data_export)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch

from feedback.models import FeedbackRecord, Review, SurveyAnswer, SurveyResponse
from members.models import Member


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def member_feedback_export(member: Member) -> dict:
    reviews = Review.objects.filter(member=member).order_by("created_at", "pk")
    responses = (SurveyResponse.objects.filter(member=member).select_related("survey")
                 .prefetch_related(Prefetch("answers", SurveyAnswer.objects.select_related("question")))
                 .order_by("created_at", "pk"))
    records = FeedbackRecord.objects.filter(member=member).order_by("created_at", "pk")
    return {
        "reviews": [{
            "sku": r.sku, "product": r.product_name, "rating": r.rating, "title": r.title, "text": r.text,
            "status": r.status, "at": _iso(r.created_at), "edited_at": _iso(r.edited_at),
        } for r in reviews],
        "survey_answers": [{
            "survey": s.survey.title, "at": _iso(s.created_at),
            "answers": [{"question": a.question.text, "score": a.score, "text": a.text, "choices": a.choices}
                        for a in s.answers.all()],
        } for s in responses],
        "feedback": [{
            "channel": f.channel, "kind": f.kind, "category": f.category, "text": f.text, "order_id": f.order_id,
            "status": f.status, "at": _iso(f.created_at), "resolved_at": _iso(f.resolved_at),
            "resolution": f.resolution_note,
        } for f in records],
    }
