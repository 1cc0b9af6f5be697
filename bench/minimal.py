"""The baseline for the purchase API: a minimal DRF view doing one INSERT and one UPDATE.

It takes the same JSON body as POST /api/v1/purchases/ and, in one transaction (ATOMIC_REQUESTS, as every
Fidelio view), inserts the order into `bench_minimal_event` and adds it to the counter row of the posted
`member` in `bench_minimal_counter` (one counter row per member id, so row locks are spread exactly as the
purchase API's member locks are). No authentication, no serializer, raw SQL: the cheapest write view DRF
allows. The tables are created by `bench/run.py` with raw SQL (SETUP_SQL), not by a migration.
"""

from __future__ import annotations

from django.db import connection
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
]

_INSERT = ("INSERT INTO bench_minimal_event (counter_id, order_id, amount, occurred_at) "
           "VALUES (%s, %s, %s, %s) RETURNING id")
_UPDATE = "UPDATE bench_minimal_counter SET events = events + 1, total = total + %s WHERE id = %s"


class MinimalApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        data = request.data
        with connection.cursor() as cursor:
            cursor.execute(_INSERT, [data["member"], data["order_id"], data["amount"], data["occurred_at"]])
            event_id = cursor.fetchone()[0]
            cursor.execute(_UPDATE, [data["amount"], data["member"]])
        return Response({"id": event_id, "order_id": data["order_id"]}, status=201)
