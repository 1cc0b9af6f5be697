"""Program-time calendar helpers (they live in members, the lowest app, so tiers can use them too)."""

from members.periods import add_months, program_tz

__all__ = ["add_months", "program_tz"]
