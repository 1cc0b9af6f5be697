"""Domain events members emits for the apps above it (members may not import them).

`member_created(member, via)` is sent inside the creating transaction; loyalty listens to pay the
welcome bonus, so a failure there rolls the sign-up back rather than leaving a member without it.
"""

from django.dispatch import Signal

member_created = Signal()  # kwargs: member, via ("signup" | "api" | "import" | "shop")
# Sent inside the updating transaction when a member changes how they appear on the leaderboards; loyalty
# moves them onto or off its Redis boards after commit.
member_leaderboard_visibility_changed = Signal()  # kwargs: member_id, old, new
# Sent by members.services.referral_apply inside its transaction, with the member's row locked, before the link
# is written. A receiver refuses the referral by raising a config.exceptions.DomainError (loyalty refuses members
# who already have a confirmed purchase: members knows nothing of purchases).
referral_applying = Signal()  # kwargs: member, referrer
# Sent by members.services.member_erase inside its transaction, with the member's row locked, before members
# anonymises the member itself: each app anonymises or cancels what it holds of the member (free texts, unused
# vouchers, ...). A receiver that raises rolls the whole erasure back.
member_erasing = Signal()  # kwargs: member, now
