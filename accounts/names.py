"""The one writer of a person's name as the product shows it (mails, .ics, pages)."""

from accounts.models import Role, name_without_title


def display_name(user) -> str:
    """'Dr. Tanvir Karim' for a doctor however the name was typed; a patient's name as is."""
    if getattr(user, "role", None) == Role.DOCTOR:
        return f"Dr. {name_without_title(user.name)}"
    return (user.name or "").strip()
