"""Members' writes: members and their logins, enrolment and the profile (`accounts`), integration tokens
(`tokens`), referrals (`referrals`), tiers (`tiers`), personal-data export and erasure (`privacy`)."""

from members.services.accounts import (
    DISPLAY_NAME_MAX,
    display_name_validate,
    language_validate,
    member_create,
    member_create_for_user,
    member_enrol,
    member_profile_update,
)
from members.services.privacy import PERSONAL_DATA, member_erase, personal_data_export, personal_data_register
from members.services.referrals import (
    REFERRAL_CHAIN_LIMIT,
    referral_apply,
    referral_mark_rewarded,
    referrer_get_by_code,
)
from members.services.tiers import (
    TIERS_CACHE_KEY,
    tier_downgrade_notify,
    tier_for_figures,
    tier_period_close,
    tier_upgrade_if_qualified,
    tier_upgrade_possible,
    tier_windows,
    tiers_changed,
    tiers_ranked,
)
from members.services.tokens import (
    TOKEN_PREFIX,
    integration_token_authenticate,
    integration_token_create,
    integration_token_revoke,
    token_scopes_parse,
)

__all__ = [
    "DISPLAY_NAME_MAX",
    "PERSONAL_DATA",
    "REFERRAL_CHAIN_LIMIT",
    "TIERS_CACHE_KEY",
    "TOKEN_PREFIX",
    "display_name_validate",
    "integration_token_authenticate",
    "integration_token_create",
    "integration_token_revoke",
    "language_validate",
    "member_create",
    "member_create_for_user",
    "member_enrol",
    "member_erase",
    "member_profile_update",
    "personal_data_export",
    "personal_data_register",
    "referral_apply",
    "referral_mark_rewarded",
    "referrer_get_by_code",
    "tier_downgrade_notify",
    "tier_for_figures",
    "tier_period_close",
    "tier_upgrade_if_qualified",
    "tier_upgrade_possible",
    "tier_windows",
    "tiers_changed",
    "tiers_ranked",
    "token_scopes_parse",
]
