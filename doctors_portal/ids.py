"""Ids as the API and the pages read them from text."""


def is_id_text(text: str) -> bool:
    """Only ASCII digits: str.isdigit() also takes Arabic-Indic and full-width digits,
    which int() reads as the same number, so another spelling of an id would name a record."""
    return text.isascii() and text.isdigit()


# The largest id a database row can have (a signed 64-bit BIGINT / SQLite INTEGER): an id
# in a request body beyond it is a bad value (400), not a row that is missing.
MAX_ID = 2**63 - 1
