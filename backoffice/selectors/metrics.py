"""Back-office read queries: metric scores, for the staff metrics dashboard (backoffice/views/dashboard.py) and a
member's scores for the integration member view (backoffice/api.py)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q

from backoffice.models import MemberScore

CLV_BUCKETS = [Decimal(x) for x in ("0", "50", "100", "250", "500", "1000", "2500")]


def clv_distribution() -> list[dict]:
    """Customers (members with a score and orders) per historic-CLV bucket: one aggregate query."""
    edges = CLV_BUCKETS
    aggregates = {}
    labels = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        name = f"b{i}"
        condition = Q(clv_historic__gte=low, frequency__gt=0)
        if high is not None:
            condition &= Q(clv_historic__lt=high)
            labels.append(f"{low}–{high}")
        else:
            labels.append(f"≥ {low}")
        aggregates[name] = Count("pk", filter=condition)
    counts = MemberScore.objects.aggregate(**aggregates)
    return [{"bucket": label, "members": counts[f"b{i}"]} for i, label in enumerate(labels)]


def member_score_get(*, member_id: int) -> MemberScore | None:
    """The member's RFM and CLV scores as of the last rollup; None before it."""
    return MemberScore.objects.filter(member_id=member_id).first()


def member_backoffice_export(member) -> dict:
    """What the back office holds of a member, for their personal-data export: the scores the rollup computed
    (profiling: RFM segment, predicted value) and the newsletters sent to them."""
    from backoffice.models import NewsletterDelivery

    score = member_score_get(member_id=member.pk)
    deliveries = (NewsletterDelivery.objects.filter(member=member).select_related("newsletter")
                  .order_by("pk"))
    return {
        "scores": None if score is None else {
            "as_of": score.as_of.isoformat(), "recency_days": score.recency_days, "frequency": score.frequency,
            "monetary": str(score.monetary), "r": score.r_score, "f": score.f_score, "m": score.m_score,
            "segment": score.segment, "clv_historic": str(score.clv_historic),
            "clv_12m": str(score.clv_12m) if score.clv_12m is not None else None, "p_alive": score.p_alive,
        },
        "newsletters": [{
            "subject": d.newsletter.subject, "status": d.status,
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
            "unsubscribed_at": d.unsubscribed_at.isoformat() if d.unsubscribed_at else None,
        } for d in deliveries],
    }
