"""Identity and membership: login users, members, tiers, integration tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.models import TimeStampedModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A login. Customers, staff and support agents all log in by e-mail; there is no username."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    # The referral code typed (or brought by an invitation link) at sign-up, kept until the e-mail address is
    # verified: only then does the login get its member (members.adapters), and only then may the code apply.
    signup_referral_code = models.CharField(
        _("referral code at sign-up"), max_length=16, blank=True, default="", editable=False
    )
    # Likewise the optional birthday and marketing consent given at sign-up, applied to the member it gets.
    signup_birthday = models.DateField(_("birthday at sign-up"), null=True, blank=True, editable=False)
    signup_marketing_consent = models.BooleanField(
        _("marketing consent at sign-up"), default=False, db_default=False, editable=False
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email


class Tier(TimeStampedModel):
    """A rung of the program. Rank 1 is the entry tier; qualification rules arrive with the points engine."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("1 = entry tier; higher is better."))
    threshold_points = models.PositiveIntegerField(
        _("threshold points"),
        default=0, help_text=_("Points earned within the qualification window to reach this tier (points basis).")
    )
    threshold_spend = models.DecimalField(
        _("threshold spend"),
        max_digits=12, decimal_places=2, default=0,
        help_text=_("Money spent within the qualification window to reach this tier (spend basis)."),
    )
    qualification_months = models.PositiveSmallIntegerField(_("qualification months"), default=12)
    earn_multiplier = models.DecimalField(_("earn multiplier"), max_digits=4, decimal_places=2, default=1)
    benefits = models.TextField(_("benefits"), blank=True)
    colour = models.CharField(_("colour"), max_length=7, default="#8a5a2b", help_text=_("Badge colour, #rrggbb."))

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rank__gte=1), name="tier_rank_positive"),
            models.CheckConstraint(condition=models.Q(earn_multiplier__gt=0), name="tier_multiplier_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Member(TimeStampedModel):
    """A loyalty member. Has a login once the customer has an account; shop-imported members may not."""

    class LeaderboardVisibility(models.TextChoices):
        NAME = "name", _("My display name (a pseudonym while it is empty)")
        PSEUDONYM = "pseudonym", _("A pseudonym (Member and the last 4 digits of my member number)")
        HIDDEN = "hidden", _("Hidden: leave me off the leaderboards")

    user = models.OneToOneField(
        User, verbose_name=_("user"), null=True, blank=True, on_delete=models.PROTECT, related_name="member"
    )
    member_number = models.CharField(_("member number"), max_length=12, unique=True, editable=False)
    referral_code = models.CharField(_("referral code"), max_length=16, unique=True, editable=False)
    email = models.EmailField(
        _("e-mail"), blank=True, help_text=_("Contact address; the login's address once claimed.")
    )
    external_id = models.CharField(
        _("external ID"),
        max_length=100, null=True, blank=True, unique=True, help_text=_("The shop's own customer id.")
    )
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    last_name = models.CharField(_("last name"), max_length=80, blank=True)
    display_name = models.CharField(_("display name"), max_length=40, blank=True)
    # How the member appears on the leaderboards (db_default: set-based inserts that omit it get the default).
    leaderboard_visibility = models.CharField(
        _("leaderboard visibility"),
        max_length=10, choices=LeaderboardVisibility.choices, default=LeaderboardVisibility.PSEUDONYM,
        db_default=LeaderboardVisibility.PSEUDONYM,
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    tier = models.ForeignKey(
        Tier, verbose_name=_("tier"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    tier_achieved_at = models.DateTimeField(_("tier achieved at"), null=True, blank=True, editable=False)
    tier_period_end = models.DateTimeField(
        _("tier period end"),
        null=True, blank=True, editable=False,
        help_text=_("End of the current qualification period: the earliest moment a downgrade can happen."),
    )
    # Denormalised by loyalty.ledger only, in the transaction that writes the ledger, under a row lock.
    points_balance = models.IntegerField(_("points balance"), default=0, editable=False)
    pending_points = models.IntegerField(_("pending points"), default=0, editable=False)
    lifetime_points = models.IntegerField(_("lifetime points"), default=0, editable=False)
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
        editable=False,
    )
    referral_rewarded_at = models.DateTimeField(_("referral rewarded at"), null=True, blank=True, editable=False)
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    marketing_consent_at = models.DateTimeField(_("marketing consent at"), null=True, blank=True)
    marketing_consent_wording = models.CharField(
        _("marketing consent wording"),
        max_length=500, blank=True, db_default="", help_text=_("What the member agreed to, in their language."))
    # Personal data erased (members.services.privacy.member_erase): the row stays, anonymous, for the ledger.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)
    erased_by = models.ForeignKey(
        User,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text=_("The staff member who erased it; empty: the member."),
    )
    erasure_reason = models.CharField(
        _("erasure reason"), max_length=300, blank=True, default="", db_default="", editable=False
    )
    # The member's language for pages and e-mails; empty until they or their browser chose one.
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES, db_default="",
                                help_text=_("Pages and e-mails in this language; empty: the program's default."))

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points_balance__gte=0), name="member_balance_non_negative"),
            models.CheckConstraint(condition=models.Q(pending_points__gte=0), name="member_pending_non_negative"),
            models.CheckConstraint(condition=models.Q(lifetime_points__gte=0), name="member_lifetime_non_negative"),
            models.CheckConstraint(
                condition=~models.Q(referred_by=models.F("pk")), name="member_not_self_referred"
            ),
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="member_email_ci_unique"
            ),
        ]
        permissions = [("erase_member", "Can erase a member's personal data")]

    def __str__(self) -> str:
        return f"{self.member_number} {self.email}".strip()

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class Scope(models.TextChoices):
    """What an integration token may do; each integration endpoint names the scope it needs per method."""

    MEMBERS_READ = "members:read", _("Read members, their points and ledger")
    MEMBERS_WRITE = "members:write", _("Enrol members")
    PURCHASES_WRITE = "purchases:write", _("Post purchases and returns")
    REDEMPTIONS_WRITE = "redemptions:write", _("Redeem rewards for members")
    VOUCHERS_USE = "vouchers:use", _("Look up and use vouchers at checkout")
    FEEDBACK_WRITE = "feedback:write", _("Record feedback")
    METRICS_READ = "metrics:read", _("Read program metrics")


def _all_scopes() -> list[str]:
    return list(Scope.values)


class IntegrationToken(TimeStampedModel):
    """A service account's API token for the shop's systems. Only a SHA-256 of the secret is stored."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    prefix = models.CharField(
        _("prefix"), max_length=12, unique=True, help_text=_("Shown in lists to tell tokens apart.")
    )
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    scopes = ArrayField(
        models.CharField(max_length=40, choices=Scope.choices),
        verbose_name=_("scopes"),
        default=_all_scopes,
        help_text=_("What the token may do; chosen at creation."),
    )
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: the token does not expire.")
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("integration token")
        verbose_name_plural = _("integration tokens")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(scopes__contained_by=list(Scope.values)),
                                   name="integration_token_known_scopes"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired()
