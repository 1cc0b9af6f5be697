"""Points-engine endpoints: members as integrations see them (`members`), purchases and returns (`purchases`),
the logged-in member (`me`). Integration endpoints take a token (IsIntegration); /me/ endpoints take a
customer session (IsMember) and only ever read the requesting member."""

from loyalty.api.me import MeApi, MeLedgerApi, MeReferralApi
from loyalty.api.members import MemberDetailApi, MemberLedgerApi, MemberListCreateApi
from loyalty.api.purchases import PurchaseBatchApi, PurchaseCreateApi, ReturnCreateApi

__all__ = [
    "MeApi",
    "MeLedgerApi",
    "MeReferralApi",
    "MemberDetailApi",
    "MemberLedgerApi",
    "MemberListCreateApi",
    "PurchaseBatchApi",
    "PurchaseCreateApi",
    "ReturnCreateApi",
]
