"""The users search folds case beyond ASCII on every database: SQLite's LIKE folds ASCII
only, PostgreSQL's UPPER folds Unicode, and the reference's sample data is German."""

import pytest

from tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("MÜLLER", ["mueller@example.de"]),
        ("müller", ["mueller@example.de"]),
        ("Müll", ["mueller@example.de"]),
        ("ÖZ", ["oezdemir@example.de"]),
        ("ärztin", ["oezdemir@example.de"]),
        ("MULLER", ["mark@example.com"]),  # folding case is not dropping accents
    ],
)
def test_search_folds_unicode_case(admin_user, client_for, term, found):
    PatientFactory(name="Jürgen Müller", email="mueller@example.de")
    DoctorFactory(name="Ärztin Özdemir", email="oezdemir@example.de")
    PatientFactory(name="Mark Muller-Smith", email="mark@example.com")
    response = client_for(admin_user).get("/api/v1/users", {"searchTerm": term})
    assert response.status_code == 200
    body = response.json()
    assert sorted(u["email"] for u in body["data"]) == found
    assert body["meta"]["total"] == len(found)


def test_search_still_matches_email_and_role(admin_user, client_for):
    PatientFactory(name="Jürgen Müller", email="Mueller@Example.DE")
    client = client_for(admin_user)
    by_email = client.get("/api/v1/users", {"searchTerm": "MUELLER@EXAMPLE"}).json()["data"]
    assert [u["email"] for u in by_email] == ["Mueller@Example.DE"]
    # A LIKE wildcard in the term is a literal character, not a pattern.
    assert client.get("/api/v1/users", {"searchTerm": "M%ller"}).json()["data"] == []
    assert client.get("/api/v1/users", {"searchTerm": "M_ller"}).json()["data"] == []
