"""Portal forms of the loyalty app: the points history's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from loyalty.models import LedgerEntry


class DateInput(forms.DateInput):
    input_type = "date"


class ActivityFilterForm(forms.Form):
    """What the member narrows their points history to: a kind of entry, and days in the program's time."""

    kind = forms.ChoiceField(label=pgettext_lazy("points history", "Kind"), required=False,
                             choices=[("", _("All kinds")), *LedgerEntry.Kind.choices])
    since = forms.DateField(label=pgettext_lazy("points history", "From"), required=False, widget=DateInput())
    until = forms.DateField(label=pgettext_lazy("points history", "Until"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data
