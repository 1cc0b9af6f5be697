"""Portal pages for reviews: the products the member bought with their reviews and statuses, writing a review
and the one edit within 48 hours. Always the logged-in member; text is escaped by the templates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from config.exceptions import DomainError
from config.throttling import RateLimited, member_write_limit
from feedback.models import TEXT_MAX
from feedback.services import reviews
from members.views import member_required


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(choices=[(i, f"{i} ★") for i in range(5, 0, -1)], coerce=int,
                                    label=gettext_lazy("Rating"))
    title = forms.CharField(max_length=reviews.TITLE_MAX, label=gettext_lazy("Title"))
    text = forms.CharField(max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 6}), label=gettext_lazy("Text"))



@member_required
def my_reviews(request):
    member = request.member
    products, others = reviews.review_purchased_products(member=member)
    now = timezone.now()
    editable = {r.pk for r in [*(p.review for p in products if p.review), *others]
                if r.edited_at is None and now - r.created_at <= reviews.EDIT_WINDOW}
    return render(request, "portal/reviews.html", {"member": member, "products": products, "others": others,
                                                   "editable": editable})


@login_required
@require_http_methods(["GET", "POST"])
@member_required
def review_write(request):
    member = request.member
    sku = (request.GET.get("sku") or request.POST.get("sku") or "").strip()
    if not sku or len(sku) > reviews.SKU_MAX:
        messages.error(request, _("Choose a product to review."))
        return redirect("portal:reviews")
    existing = reviews.review_list_for_member(member=member).filter(sku=sku).first()
    if existing is not None:
        messages.info(request, _("You have already reviewed this product."))
        return redirect("portal:reviews")
    verified = reviews.review_is_verified(member_id=member.pk, sku=sku, now=timezone.now())
    form = ReviewForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            member_write_limit(member_id=member.pk, action="review")
            reviews.review_create(member=member, sku=sku, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.detail)
            status = exc.status_code if isinstance(exc, RateLimited) else 200
        else:
            messages.success(request, _("Thank you! Your review will appear once it has been checked."))
            return redirect("portal:reviews")
    return render(request, "portal/review_form.html", {"member": member, "form": form, "sku": sku,
                                                       "verified": verified, "review": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@member_required
def review_edit_view(request, review_id: int):
    member = request.member
    try:
        review = reviews.review_get_for_member(member=member, review_id=review_id)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    initial = {"rating": review.rating, "title": review.title, "text": review.text}
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            member_write_limit(member_id=member.pk, action="review")
            reviews.review_edit(member=member, review_id=review.pk, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Your review is updated and will appear again once it has been checked."))
        return redirect("portal:reviews")
    return render(request, "portal/review_form.html", {"member": member, "form": form, "sku": review.sku,
                                                       "verified": review.verified, "review": review})
