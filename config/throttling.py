"""Rate limits on the shared Redis cache: DRF throttles per kind of caller, and a per-member limit for the
portal's writing forms.

A fixed window per caller: one pipelined round trip (`SET key 0 EX window NX` + `INCR key`) per request. DRF's
own SimpleRateThrottle keeps a list of every request time per caller (6,000 entries for a token at its default
rate), read and written whole on each request, which the API's hot paths cannot afford.

If Redis cannot be reached the limits are not enforced (logged): purchases, returns, redemptions and voucher
uses must keep working on PostgreSQL alone (DESIGN.md, invariant 10).
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_redis import get_redis_connection
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from config.exceptions import DomainError
from config.rates import rate_parse

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

log = logging.getLogger(__name__)

def limit_hit(key: str, rate: str) -> int | None:
    """Count one hit for `key`; None while within `rate`, else the seconds until the window ends."""
    limit, window = rate_parse(rate)
    now = time.time()
    bucket = int(now // window)
    redis_key = cache.make_key(f"ratelimit:{key}:{bucket}")
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        pipe.set(redis_key, 0, ex=window + 1, nx=True)
        pipe.incr(redis_key)
        _, count = pipe.execute()
    except (RedisError, ConnectionInterrupted) as exc:  # fail open: Redis is not needed for money to move
        log.warning("rate limit not enforced, Redis unavailable: %s", exc)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((bucket + 1) * window - now))


class RateLimited(DomainError):
    code = "rate_limited"
    status_code = 429
    default_detail = gettext_lazy("Too many requests; try again later.")

    def __init__(self, retry_after: int, detail: str | Promise | None = None, *, field: str | None = None,
                 code: str | None = None):
        self.retry_after = retry_after
        super().__init__(detail, field=field, code=code)


def wait_text(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if seconds < 120:
        return ngettext("Try again in %(count)d second.", "Try again in %(count)d seconds.", seconds) % {
            "count": seconds}
    return ngettext("Try again in %(count)d minute.", "Try again in %(count)d minutes.", minutes) % {
        "count": minutes}


def member_write_limit(*, member_id: int, action: str) -> None:
    """The portal's writing forms (feedback, reviews, survey answers, referral entry): FIDELIO_MEMBER_WRITE_RATE
    per member and action. Raises RateLimited (429) past it."""
    wait = limit_hit(f"member:{member_id}:{action}", settings.FIDELIO_MEMBER_WRITE_RATE)
    if wait is not None:
        raise RateLimited(wait, _("You have sent this form many times in a short while. %(try_again)s") % {
            "try_again": wait_text(wait)})


class _CallerThrottle(BaseThrottle):
    """One rate per kind of caller (settings.FIDELIO_THROTTLE_RATES[scope]); `ident` is None for other callers."""

    scope = ""

    def ident(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: APIView) -> bool:
        ident = self.ident(request)
        if ident is None:
            return True
        self._wait = limit_hit(f"api:{self.scope}:{ident}", settings.FIDELIO_THROTTLE_RATES[self.scope])
        return self._wait is None

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def _is_token(user: object) -> bool:
    return getattr(user, "token", None) is not None and not getattr(user, "pk", None)


class AnonThrottle(_CallerThrottle):
    """Anonymous callers, per client IP (behind FIDELIO_TRUSTED_PROXY_COUNT proxies)."""

    scope = "anon"

    def ident(self, request: Request) -> str | None:
        user = request.user
        return None if user and user.is_authenticated else self.get_ident(request)


class CustomerThrottle(_CallerThrottle):
    """Logged-in sessions (members and staff), per login."""

    scope = "customer"

    def ident(self, request: Request) -> str | None:
        user = request.user
        if not (user and user.is_authenticated) or _is_token(user):
            return None
        return str(user.pk)


class TokenThrottle(_CallerThrottle):
    """Integration tokens, per token."""

    scope = "token"

    def ident(self, request: Request) -> str | None:
        token = getattr(request.user, "token", None)  # set by the token authentication's user stand-in
        return str(token.pk) if token is not None and _is_token(request.user) else None
