"""Sign-up with an optional referral code (allauth's ACCOUNT_SIGNUP_FORM_CLASS)."""

from django import forms

from members.models import Member


class SignupForm(forms.Form):
    referral_code = forms.CharField(
        label="Friend's referral code (optional)", max_length=16, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def clean_referral_code(self):
        code = self.cleaned_data.get("referral_code", "").strip().upper()
        if code and not Member.objects.filter(referral_code=code).exists():
            raise forms.ValidationError("No member has this referral code. Check it, or leave it empty.")
        return code

    def signup(self, request, user):
        """allauth calls this after saving the user; the adapter has created the member already."""
