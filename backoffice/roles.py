"""Staff roles: the groups the back office knows and the permissions each holds.

Groups are created by a data migration; `staff_groups_sync()` (run after every migrate) grants exactly
these permissions, so later issues extend the lists here.
"""

from feedback.services import SUPPORT_GROUP

PROGRAM_MANAGER = "Program manager"
SUPPORT_AGENT = SUPPORT_GROUP  # feedback owns the name: it assigns records to this group and reminds it

GROUP_PERMISSIONS: dict[str, list[str]] = {
    PROGRAM_MANAGER: [
        "members.view_member", "members.change_member", "members.erase_member",
        "members.add_tier", "members.change_tier", "members.view_tier", "members.delete_tier",
        "rewards.add_reward", "rewards.change_reward", "rewards.view_reward", "rewards.delete_reward",
        "rewards.view_redemption", "rewards.view_voucher", "rewards.change_voucher",
        "rewards.add_challengereward", "rewards.change_challengereward", "rewards.view_challengereward",
        "rewards.delete_challengereward",
        "django_celery_beat.view_periodictask", "django_celery_beat.change_periodictask",
        "backoffice.view_heartbeat",
        "backoffice.view_metricsnapshot",
        "backoffice.add_newsletter", "backoffice.change_newsletter", "backoffice.view_newsletter",
        "backoffice.view_newsletterdelivery",
        "loyalty.view_purchase", "loyalty.view_ledgerentry", "loyalty.add_ledgerentry", "loyalty.view_pointslot",
        "loyalty.add_earningrule", "loyalty.change_earningrule", "loyalty.view_earningrule",
        "gamification.add_challenge", "gamification.change_challenge", "gamification.view_challenge",
        "gamification.add_badge", "gamification.change_badge", "gamification.view_badge",
        "loyalty.delete_earningrule",
        "feedback.view_review", "feedback.change_review",
        "feedback.view_feedbackrecord", "feedback.change_feedbackrecord", "feedback.add_responsetime",
        "feedback.change_responsetime", "feedback.view_responsetime",
        "feedback.add_survey", "feedback.change_survey", "feedback.view_survey", "feedback.delete_survey",
        "feedback.add_surveyquestion", "feedback.change_surveyquestion", "feedback.view_surveyquestion",
        "feedback.delete_surveyquestion", "feedback.view_surveyinvitation", "feedback.view_surveyresponse",
        "feedback.view_surveyanswer",
        "campaigns.add_offer", "campaigns.change_offer", "campaigns.view_offer",
        "campaigns.view_offerassignment",
    ],
    SUPPORT_AGENT: [
        # Feedback records (the only thing they change, with capped goodwill), and read-only what they need to
        # answer "where are my points?": the member, their purchases, points history, vouchers, redemptions and
        # survey answers. Nothing on the catalog, tiers, rules, users or tokens (docs/roles.md).
        "feedback.add_feedbackrecord", "feedback.view_feedbackrecord", "feedback.change_feedbackrecord",
        "feedback.view_responsetime",
        "feedback.view_surveyresponse", "feedback.view_surveyanswer",
        "members.view_member",
        "loyalty.view_purchase", "loyalty.view_ledgerentry",
        "rewards.view_voucher", "rewards.view_redemption",
    ],
}
