from django.utils.translation import gettext_lazy as _

from config.exceptions import Conflict, NotFound


class ChallengeNotFound(NotFound):
    code = "challenge_not_found"
    default_detail = _("No such challenge.")


class ChallengeClosed(Conflict):
    code = "challenge_closed"
    default_detail = _("This challenge has ended.")


class ChallengeNotOpen(Conflict):
    code = "challenge_not_open"
    default_detail = _("This challenge has not started yet.")


class NotInAudience(Conflict):
    code = "not_in_audience"
    default_detail = _("This challenge is for other tiers.")


class UnknownPeriod(NotFound):
    code = "unknown_period"
    default_detail = _("Leaderboards exist for these periods: weekly, monthly, all-time.")
