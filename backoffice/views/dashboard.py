"""Staff metrics dashboard (issue 7): KPI tiles, charts, cohort heat map, CSV exports and a page per RFM segment.

Everything is read from the rollup's snapshots (`MetricSnapshot`, `CohortCell`), except the tier distribution and
the CLV distribution, which are one aggregate query each over `Member` / `MemberScore`. The number of queries does
not depend on the number of members or periods.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.models import CohortCell, MemberScore, MetricSnapshot
from backoffice.selectors import clv_distribution
from backoffice.views import emails
from config.exports import spreadsheet_safe
from config.periods import local_date, period_start
from members.models import Member

PERMISSION = "backoffice.view_metricsnapshot"
PERIODS = ("month", "quarter")
SERIES_FIELDS = ["customers", "orders", "revenue", "aov", "repeat_purchase_rate", "retention_rate", "churn_rate",
                 "nps", "csat", "members_joined", "active_members", "points_issued", "points_redeemed",
                 "points_expired"]
# (key, label, kind): kind says how to format and compare ("money", "rate" 0–1, "score", "count").
TILES = [
    ("customers", _("Customers"), "count"),
    ("orders", _("Orders"), "count"),
    ("revenue", _("Revenue"), "money"),
    ("aov", _("Average order value"), "money"),
    ("repeat_purchase_rate", _("Repeat purchase rate"), "rate"),
    ("retention_rate", _("Retention"), "rate"),
    ("churn_rate", _("Churn"), "rate"),
    ("nps", _("NPS"), "score"),
    ("csat", _("CSAT"), "score"),
    ("members_joined", _("Members joined"), "count"),
    ("active_members", _("Active members"), "count"),
]
TOTAL_TILES = [  # from the all-time rows: now vs at the end of the previous period
    ("points_outstanding", _("Outstanding points"), "count"),
    ("liability", _("Liability"), "money"),
]
MAX_SERIES_ROWS = 400
SEGMENT_PAGE_SIZE = 50
RECENT_PERIODS = 8


# ------------------------------------------------------------------------------------------------ helpers
def _today() -> date:
    return local_date()


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _number(value) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _format(value, kind: str) -> str:
    number = _number(value)
    if number is None:
        return "—"
    if kind == "rate":
        return f"{number * 100:.1f} %"
    if kind == "money":
        return f"{number:,.2f}"
    if kind == "score":
        return f"{number:.1f}"
    return f"{number:,.0f}"


def _change(current, previous, kind: str) -> dict | None:
    """The change vs the previous period: points (rates, scores) or percent (counts, money)."""
    now, before = _number(current), _number(previous)
    if now is None or before is None:
        return None
    diff = now - before
    if kind == "rate":
        text = gettext("%(diff)s pts") % {"diff": f"{diff * 100:+.1f}"}
    elif kind == "score":
        text = f"{diff:+.1f}"
    elif before == 0:
        text = gettext("new") if diff else "±0 %"
    else:
        text = f"{diff / abs(before) * 100:+.1f} %"
    return {"text": text, "direction": "up" if diff > 0 else "down" if diff < 0 else "flat"}


def _tile(key: str, label: str | Promise, kind: str, current: dict | None, previous: dict | None,
          note: str = "") -> dict:
    value = (current or {}).get(key)
    return {"key": key, "label": label, "kind": kind, "value": value, "display": _format(value, kind),
            "previous": (previous or {}).get(key), "change": _change(value, (previous or {}).get(key), kind),
            "note": note}


def _date_param(request, name: str) -> tuple[date | None, str | None]:
    value = request.GET.get(name, "").strip()
    if not value:
        return None, None
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, gettext("“%(name)s” must be a date (YYYY-MM-DD); the default is used.") % {"name": name}


def _heat(share: float) -> str:
    """Background and text colour for a cohort cell (computed here; the table stays readable without CSS)."""
    alpha = 0.08 + 0.92 * max(0.0, min(1.0, share))
    text = "#fff" if alpha > 0.55 else "#222"
    return f"background-color: rgba(33, 102, 172, {alpha:.2f}); color: {text};"


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    return response


class _Echo:
    def write(self, value):
        return value


def _check(request) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


# ------------------------------------------------------------------------------------------------ data
def dashboard_data(*, period: str, start: date | None, end: date | None) -> dict:
    """Everything the page shows; a fixed number of queries."""
    latest = MetricSnapshot.objects.filter(period=MetricSnapshot.Period.ALL).order_by("-as_of").first()
    if latest is None:
        return {"latest": None}
    as_of = latest.as_of
    end = end or as_of
    start = start or _month_start(end, 11)
    # The recent complete periods, each from the latest rollup that holds it (for the tiles): the period still
    # running after the rollup's day (a month one day old shows every figure as -100 %) is only in the charts.
    running = period_start(day=as_of + timedelta(days=1), period=period)
    recent = list(MetricSnapshot.objects.filter(period=period, period_start__lt=running, as_of__lte=as_of)
                  .order_by("-period_start", "-as_of").distinct("period_start")[:RECENT_PERIODS])
    current = recent[0] if recent else None
    previous = recent[1] if len(recent) > 1 else None
    # Retention is known only once the next period has ended: the latest period with a value.
    known = [row for row in recent if row.metrics.get("retention_rate") is not None]
    tiles = []
    for key, label, kind in TILES:
        if key in ("retention_rate", "churn_rate"):
            cur, prev = (known[0] if known else None), (known[1] if len(known) > 1 else None)
            note = f"{cur.period_start:%b %Y}" if cur and period == "month" else (str(cur.period_start) if cur
                                                                                  else "")
            tiles.append(_tile(key, label, kind, cur and cur.metrics, prev and prev.metrics, note))
        else:
            tiles.append(_tile(key, label, kind, current and current.metrics, previous and previous.metrics))
    before = None
    if current is not None:
        before = (MetricSnapshot.objects.filter(period=MetricSnapshot.Period.ALL, as_of__lt=current.period_start)
                  .order_by("-as_of").first())
    for key, label, kind in TOTAL_TILES:
        tiles.append(_tile(key, label, kind, latest.metrics, before and before.metrics,
                           gettext("as of %(day)s") % {"day": as_of}))

    series = list(MetricSnapshot.objects.filter(period=period, period_start__lte=end, period_end__gt=start)
                  .order_by("period_start", "-as_of").distinct("period_start")[:MAX_SERIES_ROWS])
    series_rows = [{"period_start": row.period_start.isoformat(), "period_end": row.period_end.isoformat(),
                    "as_of": row.as_of.isoformat(), **{name: row.metrics.get(name) for name in SERIES_FIELDS}}
                   for row in series]

    cells = list(CohortCell.objects.filter(as_of=as_of, cohort_month__gte=_month_start(start),
                                           cohort_month__lte=end)
                 .values_list("cohort_month", "months_since", "customers", "active"))
    width = max((since for _, since, _, _ in cells), default=-1) + 1
    cohorts: dict[date, dict] = {}
    for month, since, customers, active in cells:
        row = cohorts.setdefault(month, {"month": month, "customers": customers, "cells": [None] * width})
        share = active / customers if customers else 0.0
        row["cells"][since] = {"active": active, "share": share, "percent": f"{share * 100:.0f} %",
                               "style": _heat(share)}

    segment_counts = latest.metrics.get("segments") or {}
    segments = [{"key": key, "label": str(label), "members": segment_counts.get(key, 0)}
                for key, label in MemberScore.Segment.choices]

    tiers = [{"tier": row["tier__name"] or gettext("No tier"), "rank": row["tier__rank"], "colour": row["tier__colour"],
              "members": row["n"]}
             for row in Member.objects.values("tier__name", "tier__rank", "tier__colour")
             .annotate(n=Count("pk")).order_by("tier__rank")]

    clv = clv_distribution()
    return {"latest": latest, "as_of": as_of, "start": start, "end": end, "period": period,
            "current": current, "previous": previous, "tiles": tiles, "series": series_rows,
            "cohorts": list(cohorts.values()), "cohort_width": range(width), "segments": segments,
            "tiers": tiers, "clv": clv}


# ------------------------------------------------------------------------------------------------ views
def dashboard_view(request):
    _check(request)
    errors = []
    start, error = _date_param(request, "from")
    errors += [error] if error else []
    end, error = _date_param(request, "to")
    errors += [error] if error else []
    if start and end and start > end:
        errors.append(gettext("“from” must not be after “to”; the default range is used."))
        start = end = None
    period = request.GET.get("period", "month")
    if period not in PERIODS:
        period = "month"
    data = dashboard_data(period=period, start=start, end=end)

    if request.GET.get("format") == "csv" and data["latest"] is not None:
        return _dashboard_csv(request.GET.get("table", "series"), data)

    context = {**admin.site.each_context(request), "title": gettext("Metrics dashboard"), "errors": errors,
               "periods": PERIODS, **data}
    if data["latest"] is not None:
        context["charts"] = {
            "series": data["series"],
            "segments": data["segments"],
            "tiers": data["tiers"],
            "clv": data["clv"],
            "liability": {"points_outstanding": data["latest"].metrics.get("points_outstanding"),
                          "liability": data["latest"].metrics.get("liability")},
        }
    return render(request, "backoffice/dashboard.html", context)


def _dashboard_csv(table: str, data: dict) -> HttpResponse:
    as_of = data["as_of"].isoformat()
    if table == "series":
        return _csv_response(f"metrics-{data['period']}-{as_of}.csv", ["period_start", "period_end", "as_of",
                                                                       *SERIES_FIELDS],
                             ([row["period_start"], row["period_end"], row["as_of"],
                               *(row[name] for name in SERIES_FIELDS)] for row in data["series"]))
    if table == "tiles":
        return _csv_response(f"kpis-{as_of}.csv", ["metric", "value", "previous", "change"],
                             ([t["key"], t["value"], t["previous"], t["change"]["text"] if t["change"] else ""]
                              for t in data["tiles"]))
    if table == "cohorts":
        return _csv_response(f"cohorts-{as_of}.csv", ["cohort_month", "months_since", "customers", "active", "share"],
                             ([row["month"].isoformat(), since, row["customers"], cell["active"],
                               f"{cell['share']:.4f}"]
                              for row in data["cohorts"] for since, cell in enumerate(row["cells"]) if cell))
    if table == "segments":
        return _csv_response(f"segments-{as_of}.csv", ["segment", "label", "members"],
                             ([s["key"], s["label"], s["members"]] for s in data["segments"]))
    if table == "tiers":
        return _csv_response(f"tiers-{as_of}.csv", ["tier", "rank", "members"],
                             ([t["tier"], t["rank"] if t["rank"] is not None else "", t["members"]]
                              for t in data["tiers"]))
    if table == "clv":
        return _csv_response(f"clv-{as_of}.csv", ["clv_historic_bucket", "members"],
                             ([c["bucket"], c["members"]] for c in data["clv"]))
    raise Http404("Unknown table.")


SEGMENT_FIELDS = ["member__member_number", "member__first_name", "member__last_name", "member__email", "r_score",
                  "f_score", "m_score", "recency_days", "frequency", "monetary", "clv_historic", "clv_12m",
                  "p_alive"]


def segment_view(request, segment: str):
    _check(request)
    labels = dict(MemberScore.Segment.choices)
    if segment not in labels:
        raise Http404("Unknown segment.")
    scores = MemberScore.objects.filter(segment=segment).order_by("-monetary", "member_id")
    if request.GET.get("format") == "csv":
        writer = csv.writer(_Echo())
        header = ["member_number", "first_name", "last_name", "email", "r", "f", "m", "recency_days", "frequency",
                  "monetary", "clv_historic", "clv_12m", "p_alive"]

        def rows():
            yield writer.writerow(header)
            for row in scores.values_list(*SEGMENT_FIELDS).iterator(chunk_size=2000):
                yield writer.writerow([spreadsheet_safe(value) if value is not None else "" for value in row])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="segment-{segment}.csv"'
        return response
    page = Paginator(scores.select_related("member"), SEGMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {**admin.site.each_context(request),
               "title": gettext("Segment: %(segment)s") % {"segment": labels[segment]}, "segment": segment,
               "segment_label": labels[segment], "page": page}
    return render(request, "backoffice/dashboard_segment.html", context)


urlpatterns = [
    path("", admin.site.admin_view(dashboard_view), name="backoffice-dashboard"),
    path("segments/<slug:segment>/", admin.site.admin_view(segment_view), name="backoffice-dashboard-segment"),
    # E-mail previews (backoffice/views/emails.py) live beside the dashboard, under the admin's log-in.
    path("emails/", admin.site.admin_view(emails.emails_view), name="backoffice-emails"),
    path("emails/<str:language>/<path:message>/html/", admin.site.admin_view(emails.email_preview_html_view),
         name="backoffice-email-html"),
    path("emails/<str:language>/<path:message>/", admin.site.admin_view(emails.email_preview_view),
         name="backoffice-email"),
]
