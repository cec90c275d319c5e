"""Ids as the API and the pages read them from text."""


def is_id_text(text: str) -> bool:
    """Only ASCII digits: str.isdigit() also takes Arabic-Indic and full-width digits,
    which int() reads as the same number, so another spelling of an id would name a record."""
    return text.isascii() and text.isdigit()
