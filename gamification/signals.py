"""Domain events gamification emits for the apps above it (gamification may not import them).

`challenge_completed(participation, challenge, now)` is sent inside the transaction that claims the
completion (once per participation); rewards listens and issues the challenge's reward voucher, so a
failure there rolls the completion back rather than leaving it without its voucher.
"""

from django.dispatch import Signal

challenge_completed = Signal()  # kwargs: participation, challenge, now
