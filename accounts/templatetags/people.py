"""`{{ user|display_name }}`: a person's name on pages, written by accounts.names."""

from django import template

from accounts.names import display_name as _display_name

register = template.Library()


@register.filter
def display_name(person) -> str:
    return _display_name(person) if person is not None else ""
