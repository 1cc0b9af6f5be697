"""Metric read endpoints for staff and integrations: the latest snapshot and per-period rows (docs/metrics.md)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.models import MemberScore, MetricSnapshot
from backoffice.selectors import member_score_get
from backoffice.views.dashboard import PERMISSION as DASHBOARD_PERMISSION
from config.exceptions import DomainError, NotFound
from config.periods import local_date
from members.models import Scope
from members.permissions import IsStaffWithPermissionOrIntegration

PERIOD_FIELDS = ["customers", "orders", "revenue", "aov", "repeat_purchase_rate", "retention_rate", "churn_rate",
                 "nps", "csat"]
MAX_PERIOD_ROWS = 400


class MetricsReader(IsStaffWithPermissionOrIntegration):
    """A staff user allowed to see the metrics dashboard (the same permission), or an integration token with the
    metrics:read scope."""

    message = gettext_lazy("This endpoint is for staff who may see the metrics dashboard and tokens with metrics:read.")


def _date_param(request, name: str, default: date | None) -> date | None:
    value = request.query_params.get(name)
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(_("%(name)s must be a date as YYYY-MM-DD.") % {"name": name}, field=name,
                          code="invalid_date") from None


def _today() -> date:
    return local_date()


class MetricsSummaryApi(APIView):
    """The all-time figures of the latest rollup on or before `as_of` (default today)."""

    permission_classes = [MetricsReader]
    error_statuses = {"GET": (404,)}  # no_snapshot
    token_scopes = {"GET": Scope.METRICS_READ}
    staff_permission = DASHBOARD_PERMISSION

    @extend_schema(parameters=[OpenApiParameter("as_of", str, description="YYYY-MM-DD")],
                   responses={200: OpenApiTypes.OBJECT}, tags=["metrics"])
    def get(self, request):
        as_of = _date_param(request, "as_of", _today())
        snapshot = (MetricSnapshot.objects.filter(period=MetricSnapshot.Period.ALL, as_of__lte=as_of)
                    .order_by("-as_of").first())
        if snapshot is None:
            raise NotFound(_("No metric rollup on or before this day."), code="no_snapshot")
        return Response({"as_of": snapshot.as_of, "computed_at": snapshot.created_at, **snapshot.metrics})


class MetricsPeriodsApi(APIView):
    """Per-period rows (month or quarter) between `from` and `to`, each from the latest rollup that holds it."""

    permission_classes = [MetricsReader]
    token_scopes = {"GET": Scope.METRICS_READ}
    staff_permission = DASHBOARD_PERMISSION

    @extend_schema(parameters=[OpenApiParameter("period", str, enum=["month", "quarter"]),
                               OpenApiParameter("from", str, description="YYYY-MM-DD"),
                               OpenApiParameter("to", str, description="YYYY-MM-DD")],
                   responses={200: OpenApiTypes.OBJECT}, tags=["metrics"])
    def get(self, request):
        period = request.query_params.get("period", "month")
        if period not in ("month", "quarter"):
            raise DomainError(_("period must be month or quarter."), field="period", code="invalid_period")
        end = _date_param(request, "to", _today())
        start = _date_param(request, "from", date(end.year - 1, end.month, 1))
        if start > end:
            raise DomainError(_("from must not be after to."), field="from", code="invalid_range")
        rows = (MetricSnapshot.objects.filter(period=period, period_start__lte=end, period_end__gt=start)
                .order_by("period_start", "-as_of").distinct("period_start")[:MAX_PERIOD_ROWS])
        return Response({"period": period, "results": [
            {"period_start": row.period_start, "period_end": row.period_end, "as_of": row.as_of,
             **{name: row.metrics.get(name) for name in PERIOD_FIELDS}}
            for row in rows
        ]})


# ------------------------------------------------------------------------------------- a member's scores
# The RFM and CLV scores the rollup computes, on the member as integrations see them
# (GET /api/v1/members/{id}/): registered into loyalty.api.members.MEMBER_FIELDS by BackofficeConfig.ready.
class RfmSerializer(serializers.Serializer):
    r = serializers.IntegerField(allow_null=True)
    f = serializers.IntegerField(allow_null=True)
    m = serializers.IntegerField(allow_null=True)
    segment = serializers.CharField(allow_null=True)
    as_of = serializers.DateField()


class ClvSerializer(serializers.Serializer):
    historic = serializers.DecimalField(max_digits=14, decimal_places=2)
    predicted_12m = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    expected_purchases_12m = serializers.FloatField(allow_null=True)
    p_alive = serializers.FloatField(allow_null=True)


class _MemberScoreField(serializers.Field):
    """Reads the member's MemberScore once per serializer (the root's context keeps it for the other field)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def _score(self, member) -> MemberScore | None:
        scores = self.context.setdefault("backoffice_member_scores", {})
        if member.pk not in scores:
            scores[member.pk] = member_score_get(member_id=member.pk)
        return scores[member.pk]


@extend_schema_field(RfmSerializer(allow_null=True))
class MemberRfmField(_MemberScoreField):
    def __init__(self, **kwargs):
        super().__init__(help_text="RFM scores (1-5, 5 best) and segment; null before the first rollup.", **kwargs)

    def to_representation(self, member) -> dict | None:
        score = self._score(member)
        if score is None:
            return None
        return {"r": score.r_score, "f": score.f_score, "m": score.m_score, "segment": score.segment or None,
                "as_of": score.as_of}


@extend_schema_field(ClvSerializer(allow_null=True))
class MemberClvField(_MemberScoreField):
    def __init__(self, **kwargs):
        super().__init__(help_text="Historic and predicted customer lifetime value; null before the first rollup.",
                         **kwargs)

    def to_representation(self, member) -> dict | None:
        score = self._score(member)
        if score is None:
            return None
        return ClvSerializer({"historic": score.clv_historic, "predicted_12m": score.clv_12m,
                              "expected_purchases_12m": score.expected_purchases_12m, "p_alive": score.p_alive}).data
