"""The points engine (purchases, ledger, lots, earning rules) and gamification.

Models arrive with the points-engine issue; `loyalty.ledger` will be the only writer of balances.
"""
