"""Template filters for the reader's language: `{% load fidelio %}` then `{{ amount|money:currency }}`,
`{{ points|number }}`, `{{ rate|percent }}` (members.formatting)."""

from __future__ import annotations

from django import template

from members.formatting import money_format, number_format, percent_format

register = template.Library()


@register.filter
def money(amount, currency=None):
    return money_format(amount, currency or None)


@register.filter
def number(value):
    return number_format(value)


@register.filter
def percent(value):
    return percent_format(value)
