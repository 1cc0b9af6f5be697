"""Back office for surveys: build them (questions inline), see invitations and responses (read-only).

Free text members typed is shown through Django's own escaping (no mark_safe anywhere here)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from feedback.models import Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse
from members.admin import member_section, member_section_register

_CHOICE_KINDS = (SurveyQuestion.Kind.SINGLE, SurveyQuestion.Kind.MULTIPLE)


class SurveyQuestionForm(forms.ModelForm):
    choices_text = forms.CharField(
        label=_("Options"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 30}),
        help_text=_("Single or multiple choice: one option per line."),
    )

    class Meta:
        model = SurveyQuestion
        fields = ["order", "kind", "text", "choices_text", "required"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.choices:
            self.fields["choices_text"].initial = "\n".join(str(c) for c in self.instance.choices)

    def clean(self):
        data = super().clean()
        options = [line.strip() for line in (data.get("choices_text") or "").splitlines() if line.strip()]
        if len(set(options)) != len(options):
            self.add_error("choices_text", gettext("Each option once, please."))
        if data.get("kind") in _CHOICE_KINDS:
            if len(options) < 2:
                self.add_error("choices_text", gettext("A choice question needs at least two options."))
        elif options:
            self.add_error("choices_text", gettext("Only single and multiple choice questions have options."))
        self.instance.choices = options if data.get("kind") in _CHOICE_KINDS else []
        return data


class SurveyQuestionInline(TranslationTabularInline):
    model = SurveyQuestion
    form = SurveyQuestionForm
    extra = 1


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = ["title", "intro", "is_active", "bonus_points", "link_valid_days", "trigger", "delay_days",
                  "min_days_between", "send_at", "audience_tiers"]

    def clean(self):
        data = super().clean()
        if data.get("trigger") == Survey.Trigger.SCHEDULED and not data.get("send_at"):
            self.add_error("send_at", gettext("A scheduled survey needs a date to send the invitations."))
        return data


@admin.register(Survey)
class SurveyAdmin(TranslationAdmin):
    form = SurveyForm
    inlines = [SurveyQuestionInline]
    list_display = ["title", "trigger", "is_active", "send_at", "bonus_points", "response_count", "created_at"]
    list_filter = ["trigger", "is_active", "audience_tiers"]
    search_fields = ["title", "intro"]
    filter_horizontal = ["audience_tiers"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["title", "intro", "is_active", "bonus_points", "link_valid_days"]}),
        (_("Trigger"), {"fields": ["trigger", "delay_days", "min_days_between", "send_at", "audience_tiers"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_responses=Count("responses", distinct=True))

    @admin.display(description=_("Responses"), ordering="_responses")
    def response_count(self, obj) -> int:
        return obj._responses


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ["survey", "member", "key", "created_at", "sent_at", "expires_at", "responded_at"]
    list_filter = ["survey", ("sent_at", admin.EmptyFieldListFilter), ("responded_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "member__email", "member__member_number"]
    list_select_related = ["survey", "member"]
    autocomplete_fields = ["member"]
    exclude = ["nonce"]  # the secret half of a link stays out of the back office
    readonly_fields = ["survey", "member", "purchase", "key", "created_at", "sent_at", "expires_at", "responded_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SurveyAnswerInline(admin.TabularInline):
    model = SurveyAnswer
    fields = ["question", "kind", "score", "text", "choices"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["pk", "survey", "member", "created_at", "bonus_entry"]
    list_filter = ["survey", "survey__trigger"]
    search_fields = ["member__email", "member__member_number", "answers__text"]
    list_select_related = ["survey", "member", "bonus_entry"]
    autocomplete_fields = ["member"]
    readonly_fields = ["survey", "member", "invitation", "bonus_entry", "created_at"]
    inlines = [SurveyAnswerInline]
    date_hierarchy = "created_at"

    def get_search_results(self, request, queryset, search_term):
        queryset, _distinct = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- beside the member, for support (members.admin.MEMBER_SECTIONS) ---------------------------------------------
def _answers_text(response) -> str:
    parts = []
    for answer in response.answers.all():
        value = answer.score if answer.score is not None else (", ".join(answer.choices or []) or answer.text)
        parts.append(f"{answer.question.text[:40]}: {value}")
    return "; ".join(parts)[:300]


@member_section_register
def _member_survey_answers(request, member):
    return member_section(
        request=request, member=member, perm="feedback.view_surveyresponse", title=gettext("Survey answers"),
        queryset=SurveyResponse.objects.filter(member=member).select_related("survey")
        .prefetch_related("answers__question").order_by("-created_at"),
        columns=[gettext("answered"), gettext("survey"), gettext("answers")],
        row=lambda r: [r.created_at, r.survey.title, _answers_text(r)],
        changelist="admin:feedback_surveyresponse_changelist",
    )
