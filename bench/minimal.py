"""The baseline for the purchase API: a minimal DRF view doing one INSERT and one UPDATE.

It takes the same JSON body as POST /api/v1/purchases/ and, in one transaction (ATOMIC_REQUESTS, as every
Fidelio view), inserts the order into `bench_minimal_event` and adds it to the counter row of the posted
`member` in `bench_minimal_counter` (one counter row per member id, so row locks are spread exactly as the
purchase API's member locks are). No authentication, no serializer, raw SQL: the cheapest write view DRF
allows. The tables are created by `bench/run.py` with raw SQL (SETUP_SQL), not by a migration.

`ConventionalApi` (/bench/conventional/) does the same INSERT + UPDATE the usual DRF way (a Serializer
and the ORM, still no authentication). Both baselines are measured and reported (docs/performance.md):
the raw-SQL one is the floor, the conventional one is what "a minimal DRF view" usually looks like.

`minimal_page` (/bench/page/) is the baseline of the portal pages (bench/portal.py): a plain Django view (no DRF)
doing one small query (the first member row, by the primary key's index) and rendering a tiny template, through
the same middleware stack, URL resolver and request-wide transaction as every portal page. No login check, no
context processors: the floor under any HTML page.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.http import HttpResponse
from django.template import engines
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

SETUP_SQL = [
    """CREATE TABLE IF NOT EXISTS bench_minimal_event (
        id bigserial PRIMARY KEY,
        counter_id bigint NOT NULL,
        order_id varchar(100) NOT NULL UNIQUE,
        amount numeric(12, 2) NOT NULL,
        occurred_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS bench_minimal_counter (
        id bigint PRIMARY KEY,
        events bigint NOT NULL DEFAULT 0,
        total numeric(16, 2) NOT NULL DEFAULT 0)""",
    "INSERT INTO bench_minimal_counter (id) SELECT id FROM members_member ON CONFLICT DO NOTHING",
    """CREATE TABLE IF NOT EXISTS bench_conv_event (
        id bigserial PRIMARY KEY,
        counter_id bigint NOT NULL,
        order_id varchar(100) NOT NULL UNIQUE,
        amount numeric(12, 2) NOT NULL,
        occurred_at timestamptz NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS bench_conv_counter (
        id bigint PRIMARY KEY,
        events bigint NOT NULL DEFAULT 0,
        total numeric(16, 2) NOT NULL DEFAULT 0)""",
    "INSERT INTO bench_conv_counter (id) SELECT id FROM members_member ON CONFLICT DO NOTHING",
]

_INSERT = ("INSERT INTO bench_minimal_event (counter_id, order_id, amount, occurred_at) "
           "VALUES (%s, %s, %s, %s) RETURNING id")
_UPDATE = "UPDATE bench_minimal_counter SET events = events + 1, total = total + %s WHERE id = %s"


class MinimalApi(APIView):
    authentication_classes: list = []
    throttle_classes: list = []  # a minimal DRF view: DRF's default has no throttles
    permission_classes = [AllowAny]

    def post(self, request):
        data = request.data
        with connection.cursor() as cursor:
            cursor.execute(_INSERT, [data["member"], data["order_id"], data["amount"], data["occurred_at"]])
            event_id = cursor.fetchone()[0]
            cursor.execute(_UPDATE, [data["amount"], data["member"]])
        return Response({"id": event_id, "order_id": data["order_id"]}, status=201)


class _ConvIn(serializers.Serializer):
    member = serializers.IntegerField(min_value=1)
    order_id = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    occurred_at = serializers.DateTimeField()


class ConventionalApi(APIView):
    """The same INSERT + UPDATE written the way a minimal DRF view usually is: a Serializer validates the
    body and the ORM writes (Model.objects.create, then QuerySet.update with F()). No authentication."""

    authentication_classes: list = []
    throttle_classes: list = []  # a minimal DRF view: DRF's default has no throttles
    permission_classes = [AllowAny]

    def post(self, request):
        from bench.models import ConvCounter, ConvEvent

        data = _ConvIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        event = ConvEvent.objects.create(counter_id=v["member"], order_id=v["order_id"], amount=v["amount"],
                                         occurred_at=v["occurred_at"])
        ConvCounter.objects.filter(pk=v["member"]).update(events=F("events") + 1, total=F("total") + v["amount"])
        return Response({"id": event.pk, "order_id": event.order_id}, status=201)


_PAGE_SQL = "SELECT id, points_balance FROM members_member ORDER BY id LIMIT 1"
_PAGE_HTML = ('<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8"><title>Baseline</title></head>'
              "<body><p>Member {{ member_id }}: {{ balance }} points.</p></body></html>")


@functools.cache
def _page_template():
    return engines["django"].from_string(_PAGE_HTML)  # compiled once, as the cached template loader does


def minimal_page(request):
    """One small query and a tiny template (the portal pages' baseline; see the module's docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_SQL)
        row = cursor.fetchone() or (0, 0)
    html = _page_template().render({"lang": getattr(request, "LANGUAGE_CODE", "en"), "member_id": row[0],
                                    "balance": row[1]})
    return HttpResponse(html)
