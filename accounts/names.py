"""The one writer of a person's name as the product shows it (mails, .ics, pages)."""

import re

from accounts.models import Role

# A doctor's name as typed may carry the title already ("Dr. Tanvir Karim").
_TITLE = re.compile(r"^\s*dr\.?\s+", re.IGNORECASE)


def display_name(user) -> str:
    """'Dr. Tanvir Karim' for a doctor however the name was typed; a patient's name as is."""
    name = (user.name or "").strip()
    if getattr(user, "role", None) == Role.DOCTOR:
        return f"Dr. {_TITLE.sub('', name)}"
    return name
