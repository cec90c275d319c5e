"""`{{ instant|clinic_when }}`: a time on pages as mails, .ics and the admin write it
(scheduling.timefmt, in the clinic's time zone)."""

from django import template

from scheduling import timefmt

register = template.Library()


@register.filter
def clinic_when(at, end=None) -> str:
    """'Saturday, May 27, 2023, 10.00 AM' (or with `end`: '…, 10.00 AM-11.00 AM')."""
    return timefmt.format_when(at, end) if at else ""
