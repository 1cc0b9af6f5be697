"""Portal: "My feedback" — tell us something (a complaint, a suggestion…) and follow what happens to it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.throttling import RateLimited, member_write_limit
from feedback.models import TEXT_MAX, FeedbackRecord
from feedback.services import feedback_for_member, feedback_record
from members.views import member_required


class MemberFeedbackForm(forms.Form):
    kind = forms.ChoiceField(choices=[(FeedbackRecord.Kind.COMPLAINT, gettext_lazy("A complaint")),
                                      (FeedbackRecord.Kind.SUGGESTION, gettext_lazy("A suggestion")),
                                      (FeedbackRecord.Kind.PRAISE, gettext_lazy("Praise")),
                                      (FeedbackRecord.Kind.QUESTION, gettext_lazy("A question"))],
                             label=gettext_lazy("This is"))
    category = forms.ChoiceField(choices=FeedbackRecord.Category.choices, label=gettext_lazy("About"))
    order_id = forms.CharField(max_length=100, required=False, label=gettext_lazy("Order number (optional)"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_MAX,
                           label=gettext_lazy("Tell us more"))


@member_required(no_member_redirect="portal:home")
def my_feedback(request):
    member = request.member
    form = MemberFeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            member_write_limit(member_id=member.pk, action="feedback")
        except RateLimited as exc:
            form.add_error(None, exc.detail)
            status = exc.status_code
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        sentiment = {FeedbackRecord.Kind.PRAISE: FeedbackRecord.Sentiment.POSITIVE,
                     FeedbackRecord.Kind.COMPLAINT: FeedbackRecord.Sentiment.NEGATIVE}.get(
            d["kind"], FeedbackRecord.Sentiment.NEUTRAL)
        feedback_record(member=member, channel=FeedbackRecord.Channel.PORTAL, kind=d["kind"], category=d["category"],
                        sentiment=sentiment, text=d["text"], order_id=d["order_id"])
        messages.success(request, _("Thank you — we have it and will get back to you."))
        return redirect("portal:feedback")
    page = Paginator(feedback_for_member(member=member), 20).get_page(request.GET.get("page"))
    return render(request, "portal/feedback.html", {"member": member, "form": form, "page": page}, status=status)
