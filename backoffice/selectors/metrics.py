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
