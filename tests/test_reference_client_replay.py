"""Every request the reference web client makes, as its browser sends it.

The reference client (GitHub alfatcse/Doctors-Portal, React) is served from its own
origin, so each call is cross-origin: Chromium first sends a preflight whenever the
request carries a header outside the CORS safelist (its `authorization: bearer …`, its
`content-type: application/json`) or a method other than GET/POST, and hands the
answer to the page only when it names the page's origin. `ReferenceBrowser` sends
exactly that: the preflight, then the request with the client's own headers (lower-case
`bearer`, axios's Accept and no Content-Type on a bodiless GET) and JSON.stringify's
body (undefined fields left out). Each test asserts the fields the client reads and
the values it compares, file by file of its `src/` (named in the test), with only the
changes API.md's "What a reference client must change" lists. A change of ours that
would break the reference client fails here.

Firebase sign-up and sign-in go through the real Auth emulator; payments through
localstripe, paid as Stripe.js would pay.

Not replayed: `Pages/Dashboard/AddDoctor` (not in the client's menu) calls a hard-coded
`http://localhost:5006/doctors` rather than its API base, and `Subscribe` posts to its own
origin's `api/update-notion`; neither is a call to this API.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
import requests
from django.test import Client
from django.utils import timezone

from accounts.models import DoctorProfile, Role, User
from bookings.models import Booking
from scheduling import timefmt
from scheduling.models import Slot
from tests.accounts.helpers import unique_email
from tests.factories import AdminFactory, DoctorFactory, ServiceFactory
from tests.payments.conftest import pay_at_stripe
from tests.scheduling.helpers import commits

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost:3000"  # create-react-app's own origin
API = "/api/v1"  # the client's REACT_APP_HOST_LINK, as served here
AXIOS_ACCEPT = "application/json, text/plain, */*"
JSON = "application/json"
# The client's own schedule form (Pages/Dashboard/DoctorDash/MakeSchedule.js), values as
# written there, "Pm" included.
FIRST_SELECT = ["10.00 AM-12.00 AM", "12.00 AM-02.00 PM"]
SECOND_SELECT = ["02.00 PM-03.00 PM", "03.00 Pm-04.00 PM"]

# Fetch's CORS-safelisted request headers (a preflight is not needed for these values).
_SAFELISTED = {"accept", "accept-language", "content-language"}
_SIMPLE_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}


def reference_date(day: date) -> str:
    """`d.toLocaleDateString("en-US", {weekday, year, month: "long", day})`."""
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


@dataclass
class Answer:
    status: int
    body: object  # `await res.json()`
    preflighted: bool

    @property
    def data(self):
        return self.body.get("data") if isinstance(self.body, dict) else None


class ReferenceBrowser:
    """Chromium at the client's origin: preflight when the Fetch standard needs one,
    then the request, each answer checked as the browser checks it before the page may
    read it. `local_storage` is the client's: `accessToken` from GET jwt."""

    def __init__(self, origin: str = ORIGIN):
        self.origin = origin
        self.local_storage: dict[str, str] = {}
        self.http = Client()

    def bearer(self) -> str:
        # `bearer ${localStorage.getItem("accessToken")}`: "null" when nothing is stored.
        return f"bearer {self.local_storage.get('accessToken', 'null')}"

    def fetch(self, url: str, *, method: str = "GET", headers=None, body=None) -> Answer:
        headers = {name.lower(): value for name, value in (headers or {}).items()}
        unsafe = sorted(name for name, value in headers.items() if not _safelisted(name, value))
        preflighted = method not in ("GET", "HEAD", "POST") or bool(unsafe)
        if preflighted:
            self._preflight(url, method, unsafe)
        content_type = headers.pop("content-type", None)
        extra = {"CONTENT_TYPE": content_type} if content_type else {}
        response = self.http.generic(
            method,
            API + url,
            data=b"" if body is None else json.dumps(body).encode(),
            content_type=content_type or "text/plain;charset=UTF-8",
            headers={"Origin": self.origin, **headers},
            **extra,
        )
        assert response.get("Access-Control-Allow-Origin") == self.origin, (
            f"{method} {url}: the browser would withhold this answer (no CORS permission)"
        )
        assert response.status_code < 500, response.content
        # Every answer of ours is JSON, errors too: the client calls res.json() on all.
        return Answer(response.status_code, json.loads(response.content), preflighted)

    def axios_get(self, url: str, *, headers=None) -> Answer:
        """axios 1.x: its Accept, and no Content-Type on a request without a body (the
        client passes `content-type` and `body: JSON.stringify()` anyway)."""
        headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
        return self.fetch(url, headers={"Accept": AXIOS_ACCEPT, **headers})

    def _preflight(self, url: str, method: str, unsafe: list[str]) -> None:
        request_headers = {"Origin": self.origin, "Access-Control-Request-Method": method}
        if unsafe:
            request_headers["Access-Control-Request-Headers"] = ",".join(unsafe)
        response = self.http.options(API + url, headers=request_headers)
        assert 200 <= response.status_code < 300, f"preflight of {method} {url}: {response}"
        assert response.get("Access-Control-Allow-Origin") == self.origin
        methods = {m.strip() for m in response.get("Access-Control-Allow-Methods", "").split(",")}
        assert method in methods, f"preflight of {method} {url} does not allow the method"
        allowed = {
            h.strip().lower() for h in response.get("Access-Control-Allow-Headers", "").split(",")
        }
        assert set(unsafe) <= allowed, f"preflight of {method} {url} refuses {unsafe}"


def _safelisted(name: str, value: str) -> bool:
    if name == "content-type":
        return value.split(";")[0].strip().lower() in _SIMPLE_CONTENT_TYPES
    return name in _SAFELISTED


# ---- the client's flows, each as its source writes it ----


def load_specialties(browser) -> list:
    """SignUp.js: `fetch(`${host}/appointmentSpecialty`)`, `data?.data`."""
    answer = browser.fetch("/appointmentSpecialty")
    assert answer.status == 200 and not answer.preflighted
    return answer.data


def sign_up(browser, emulator, *, role="Patient", specialty=None, registrationnumber=None):
    """SignUp.js: Firebase createUserWithEmailAndPassword, then saveUser (POST users with
    the Firebase ID token, the one change), then useToken (GET jwt, the other)."""
    email = unique_email(role.lower())
    _, id_token = emulator.sign_up(email, "Secret#123", verified=False)
    user = {  # JSON.stringify drops the undefined registrationnumber/specialty of a patient
        "name": f"Ref {role}",
        "email": email,
        "role": role,
        **({"registrationnumber": registrationnumber} if registrationnumber else {}),
        **({"specialty": specialty} if specialty else {}),
        "image": "https://i.ibb.co/stand-in/photo.jpg",
    }
    answer = browser.fetch(
        "/users",
        method="POST",
        headers={"content-type": JSON, "authorization": f"Bearer {id_token}"},
        body=user,
    )
    assert answer.status == 201, answer.body
    assert answer.preflighted
    get_token(browser, email, id_token)
    return User.objects.get(email=email), email


def get_token(browser, email: str, id_token: str) -> None:
    """Hooks/useToken.js: `fetch(`${host}/jwt?email=${email}`)` plus the Firebase ID token;
    `if (data.accessToken) localStorage.setItem("accessToken", data.accessToken)`."""
    answer = browser.fetch(f"/jwt?email={email}", headers={"authorization": f"Bearer {id_token}"})
    assert answer.status == 200, answer.body
    assert isinstance(answer.body["accessToken"], str) and answer.body["accessToken"]
    browser.local_storage["accessToken"] = answer.body["accessToken"]


def role_of(browser, email: str) -> str:
    """Hooks/useAdmin.js: GET usersrole with content-type and bearer; `data.data`."""
    answer = browser.fetch(
        f"/usersrole?email={email}",
        headers={"content-type": JSON, "authorization": browser.bearer()},
    )
    assert answer.status == 200, answer.body
    return answer.data


def doctor_screen_user(browser, email: str) -> dict:
    """MakeSchedule.js, MySchedule.js, MyPatient.js: axios GET user?userEmail= with bearer;
    `res.data.data.isverified` (=== "verified" shows the screen), `.specialty`, `.email`."""
    answer = browser.axios_get(
        f"/user?userEmail={email}",
        headers={"content-type": JSON, "authorization": browser.bearer()},
    )
    assert answer.status == 200, answer.body
    return answer.data


def admin_list(browser, user_type: str) -> list:
    """AllPatient.js / ManageDoctors.js: GET users?userType= with bearer only; `data?.data`."""
    answer = browser.fetch(
        f"/users?userType={user_type}", headers={"authorization": browser.bearer()}
    )
    assert answer.status == 200, answer.body
    assert isinstance(answer.data, list)  # `users?.length`, `users?.map`
    return answer.data


def appointment_options(browser) -> list:
    """AvailableAppointment.js: `fetch(`${host}/appointmentOptions`)` with no date."""
    answer = browser.fetch("/appointmentOptions")
    assert answer.status == 200, answer.body
    assert not answer.preflighted
    for option in answer.data:
        # AppointOption.js: key={option._id}; name, price, slots.length, doctors.
        assert {"_id", "name", "price", "slots", "doctors"} <= set(option)
        assert isinstance(option["slots"], list) and isinstance(option["doctors"], list)
    return answer.data


def option_named(options: list, name: str) -> dict:
    return next(option for option in options if option["name"] == name)


def publish(browser, email: str, doc_slot: list) -> Answer:
    """MakeSchedule.js handleSave: POST slots {docEmail, docSlot} with the access token."""
    return browser.fetch(
        "/slots",
        method="POST",
        headers={"content-type": JSON, "authorization": browser.bearer()},
        body={"docEmail": email, "docSlot": doc_slot},
    )


def doctor_slots_public(browser, doctor_email: str) -> dict:
    """BookingModal.js: `fetch(`${host}/slot/${value}`)` (no headers): `data?.data`, then
    `date.docSlot.map(p => p.date === chosen && setSlot(p.slot))`."""
    answer = browser.fetch(f"/slot/{doctor_email}")
    assert answer.status == 200, answer.body
    assert not answer.preflighted
    return answer.data


def book(browser, *, patient, patient_email, doctor_email, treatment, date_text, label, price):
    """BookingModal.js handleBooking: POST bookings (plus the access token), then on
    `data?.status === "Success"` PATCH slots {doctor, AppointmentDate, slot}."""
    booking = {
        "patient_id": patient.pk,
        "patient_name": patient.name,
        "slot": label,
        "AppointmentDate": date_text,
        "patient_email": patient_email,
        "patient_Phone": "01711000000",
        "doctor_email": doctor_email,
        "treatment": treatment,
        "price": price,
        "isPaid": False,
    }
    headers = {"content-type": JSON, "authorization": browser.bearer()}
    answer = browser.fetch("/bookings", method="POST", headers=headers, body=booking)
    if answer.body.get("status") != "Success":
        return answer
    delete_slot = {"doctor": doctor_email, "AppointmentDate": date_text, "slot": label}
    patched = browser.fetch("/slots", method="PATCH", headers=headers, body=delete_slot)
    assert patched.status == 200, patched.body
    assert patched.body["status"] == "Success"  # then refetch()
    return answer


def my_appointments(browser, email: str) -> list:
    """MyAppointment.js: GET bookings?email= with bearer and content-type;
    `bookings?.data?.appointmentData` rows: _id, treatment, AppointmentDate, slot, isPaid."""
    answer = browser.fetch(
        f"/bookings?email={email}",
        headers={"authorization": browser.bearer(), "content-type": JSON},
    )
    assert answer.status == 200, answer.body
    rows = answer.data["appointmentData"]
    for row in rows:
        assert {"_id", "treatment", "AppointmentDate", "slot", "isPaid"} <= set(row)
    return rows


def pay(browser, stripe_client, *, booking_id, email) -> Answer:
    """Payment.js and Checkout.js: GET booking/:id, POST create-payment-intent (plus
    bookingId, the one change), Stripe.js pays, POST payment {price, transactionid, email,
    bookingID}; "Payment Completed" when `data.status === "Success"`."""
    headers = {"content-type": JSON, "authorization": browser.bearer()}
    answer = browser.fetch(f"/booking/{booking_id}", headers=headers)
    assert answer.status == 200, answer.body
    price, _id = answer.data["price"], answer.data["_id"]
    assert _id == booking_id
    intent = browser.fetch(
        "/create-payment-intent",
        method="POST",
        headers={"Content-Type": JSON, "authorization": browser.bearer()},
        body={"price": price, "bookingId": _id},
    )
    assert intent.status == 200, intent.body
    client_secret = intent.body["clientSecret"]  # setClientSecret(data.clientSecret)
    assert client_secret.startswith(intent.body["paymentIntentId"])
    paid = pay_at_stripe(stripe_client, intent.body["paymentIntentId"])
    assert paid.status == "succeeded"  # `paymentIntent.status === "succeeded"`
    payment = {"price": price, "transactionid": paid.id, "email": email, "bookingID": _id}
    return browser.fetch("/payment", method="POST", headers=headers, body=payment)


def my_patients(browser, doctor_email) -> Answer:
    """MyPatient.js: axios GET booking-doctor?email= (plus the access token, the one change);
    `setPatient(res.data.data)`, rows: _id, patient_name, patient_email,
    appointmentData.{AppointmentDate, slot, isPaid}."""
    return browser.axios_get(
        f"/booking-doctor?email={doctor_email}",
        headers={"content-type": JSON, "authorization": browser.bearer()},
    )


def delete_user(browser, user_id) -> Answer:
    """AllPatient.js / ManageDoctors.js: DELETE users?id= with bearer; `data.data.deletedCount`."""
    return browser.fetch(
        f"/users?id={user_id}", method="DELETE", headers={"authorization": browser.bearer()}
    )


def verify(browser, doctor_id, specialty) -> Answer:
    """ManageDoctors.js handleVerified: PATCH users?id= {specialty} plus isVerified: true
    (the one change); `if (res.status === 200) refetch()`."""
    return browser.fetch(
        f"/users?id={doctor_id}",
        method="PATCH",
        headers={"content-type": JSON, "authorization": browser.bearer()},
        body={"specialty": specialty, "isVerified": True},
    )


# ---- fixtures ----


@pytest.fixture
def orthodontics(db):
    return ServiceFactory(name="Teeth Orthodontics", price=Decimal("150.00"))


@pytest.fixture
def admin_browser(firebase_emulator):
    """The admin signs in with Firebase (Login.js) to an account made by the clinic."""
    email = unique_email("admin")
    AdminFactory(email=email, name="Ref Admin")
    _, id_token = firebase_emulator.sign_up(email, "Secret#123", verified=True)
    browser = ReferenceBrowser()
    get_token(browser, email, id_token)
    assert role_of(browser, email) == "admin"  # AdminRoute: isAdmin === 'admin'
    return browser


@pytest.fixture
def verified_doctor_browser(firebase_emulator, orthodontics, admin_browser):
    """A doctor who signed up with the client and whom an admin verified with it."""
    browser = ReferenceBrowser()
    doctor, email = sign_up(
        browser,
        firebase_emulator,
        role="Doctor",
        specialty=orthodontics.name,
        registrationnumber="12345",
    )
    assert verify(admin_browser, doctor.pk, orthodontics.name).status == 200
    browser.email = email
    browser.user = doctor
    return browser


@pytest.fixture
def patient_browser(firebase_emulator):
    browser = ReferenceBrowser("http://127.0.0.1:3000")
    patient, email = sign_up(browser, firebase_emulator)
    browser.email = email
    browser.user = patient
    return browser


def days_ahead(n: int) -> date:
    return timefmt.clinic_today(timezone.now()) + timedelta(days=n)


@pytest.fixture
def published(verified_doctor_browser):
    """The verified doctor published two days with the client's own labels."""
    first, second = days_ahead(2), days_ahead(3)
    answer = publish(
        verified_doctor_browser,
        verified_doctor_browser.email,
        [
            {"date": reference_date(second), "slot": [FIRST_SELECT[1], SECOND_SELECT[1]]},
            {"date": reference_date(first), "slot": [FIRST_SELECT[0], SECOND_SELECT[0]]},
        ],
    )
    assert answer.status == 201, answer.body
    return verified_doctor_browser, first, second


# ---- sign-up, login, roles ----


def test_patient_signs_up_and_logs_in_as_the_client_does(firebase_emulator):
    browser = ReferenceBrowser()
    assert isinstance(load_specialties(ReferenceBrowser()), list)  # `specialties?.map`
    patient, email = sign_up(browser, firebase_emulator)
    assert patient.role == Role.PATIENT and patient.name == "Ref Patient"
    assert role_of(browser, email) == "Patient"

    # Login.js: signInWithEmailAndPassword, then useToken(result.user.email).
    again = ReferenceBrowser()
    get_token(again, email, firebase_emulator.sign_in(email, "Secret#123"))
    assert role_of(again, email) == "Patient"


def google_sign_in(emulator, email: str, *, picture: str | None) -> str:
    """signInWithPopup(auth, GoogleAuthProvider) as the Auth emulator does it: an ID token
    whose sign-in provider is google.com (the emulator takes the IdP's claims as JSON)."""
    claims = {"sub": f"google-{email}", "email": email, "email_verified": True, "name": "G Ref"}
    if picture:
        claims["picture"] = picture
    response = requests.post(
        f"{emulator.base}/accounts:signInWithIdp?key=fake-api-key",
        json={
            "postBody": f"id_token={quote(json.dumps(claims))}&providerId=google.com",
            "requestUri": "http://localhost",
            "returnSecureToken": True,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["idToken"]


def test_continue_with_google_signs_up_and_logs_in(firebase_emulator):
    # SignUp.js hadleGoogleSignin: saveUser({name: displayName, email, role: "Patient",
    # image: photoURL}) through the same saveUser (so with the ID token), then useToken.
    email = unique_email("google")
    picture = "https://lh3.googleusercontent.com/a/ref-photo"
    id_token = google_sign_in(firebase_emulator, email, picture=picture)
    browser = ReferenceBrowser()
    answer = browser.fetch(
        "/users",
        method="POST",
        headers={"content-type": JSON, "authorization": f"Bearer {id_token}"},
        body={"name": "G Ref", "email": email, "role": "Patient", "image": picture},
    )
    assert answer.status == 201, answer.body
    assert answer.data["image"] == picture
    # Login.js hadleGoogleSignin: useToken(result.user.email).
    get_token(browser, email, google_sign_in(firebase_emulator, email, picture=picture))
    assert role_of(browser, email) == "Patient"


def test_specialties_are_the_options_of_the_sign_up_form(orthodontics):
    specialties = load_specialties(ReferenceBrowser())
    # <option value={specialty.name} key={specialty._id}>
    assert [(s["_id"], s["name"]) for s in specialties] == [(orthodontics.pk, orthodontics.name)]


def test_doctor_signs_up_unverified_and_sees_the_not_verified_screens(
    firebase_emulator, orthodontics
):
    browser = ReferenceBrowser()
    specialty = load_specialties(browser)[0]["name"]
    doctor, email = sign_up(
        browser, firebase_emulator, role="Doctor", specialty=specialty, registrationnumber="12345"
    )
    assert doctor.role == Role.DOCTOR
    assert role_of(browser, email) == "Doctor"  # DashboardLayout: isAdmin === "Doctor"
    shown = doctor_screen_user(browser, email)
    assert shown["isverified"] is None  # not "verified": "Your are not verified by the Admin"
    assert shown["specialty"] == orthodontics.name and shown["email"] == email


def test_admin_verifies_a_doctor_with_manage_doctors(
    firebase_emulator, orthodontics, admin_browser
):
    doctor_browser = ReferenceBrowser()
    doctor, email = sign_up(
        doctor_browser,
        firebase_emulator,
        role="Doctor",
        specialty=orthodontics.name,
        registrationnumber="12345",
    )
    listed = {d["email"]: d for d in admin_list(admin_browser, "Doctor")}[email]
    # ManageDoctors.js: _id, image, name, email, specialty, registrationnumber; the button
    # is enabled while `doctor?.isverified` is falsy.
    assert listed["_id"] == doctor.pk and listed["name"] == "Ref Doctor"
    assert listed["image"].startswith("https://")
    assert listed["specialty"] == orthodontics.name and listed["registrationnumber"] == "12345"
    assert not listed["isverified"]

    answer = verify(admin_browser, listed["_id"], listed["specialty"])
    assert answer.status == 200, answer.body
    assert DoctorProfile.objects.get(user=doctor).is_verified is True

    listed = {d["email"]: d for d in admin_list(admin_browser, "Doctor")}[email]
    assert listed["isverified"] == "verified"  # truthy: the button is disabled
    assert doctor_screen_user(doctor_browser, email)["isverified"] == "verified"


# ---- the doctor's screens ----


def test_doctor_publishes_the_client_form_and_sees_my_schedule(published):
    browser, first, second = published
    slots = Slot.objects.filter(doctor=browser.user).order_by("start")
    clinic = timefmt.clinic_tz()
    # "12.00 AM" is the reference client's noon: 10-12, 12-14, 14-15 and 15-16.
    assert [(s.start.astimezone(clinic).hour, s.end.astimezone(clinic).hour) for s in slots] == [
        (10, 12),
        (14, 15),
        (12, 14),
        (15, 16),
    ]
    assert {s.start.astimezone(clinic).date() for s in slots} == {first, second}

    # MySchedule.js: axios GET slot/:email with bearer; `res.data?.data?.docSlot`, each
    # `d.date` and `d.slot.map(...)`.
    answer = browser.axios_get(
        f"/slot/{browser.email}",
        headers={"content-type": JSON, "authorization": browser.bearer()},
    )
    assert answer.status == 200, answer.body
    by_date = {d["date"]: d["slot"] for d in answer.data["docSlot"]}
    assert set(by_date) == {reference_date(first), reference_date(second)}
    assert len(by_date[reference_date(first)]) == 2 and len(by_date[reference_date(second)]) == 2
    assert all(isinstance(label, str) for labels in by_date.values() for label in labels)


def test_publishing_a_date_whose_selects_were_left_unpicked_answers_in_json(
    verified_doctor_browser,
):
    # handleDaySlot keeps `{date}` without `slot` when a select stayed at "Select".
    answer = publish(
        verified_doctor_browser,
        verified_doctor_browser.email,
        [{"date": reference_date(days_ahead(4))}],
    )
    # The client reads nothing of the answer; a clear 400 naming the entry, never a 500.
    assert answer.status == 400, answer.body
    assert answer.body["errorMessages"][0]["path"].startswith("docSlot[0]")


def test_my_patient_before_and_after_the_doctor_email_is_known(published, patient_browser):
    doctor_browser, _, _ = published
    # The first render asks with `docEmail` still undefined: an error, which axios rejects,
    # so `patient` stays [] instead of becoming something `.map` cannot read.
    early = my_patients(doctor_browser, "undefined")
    assert early.status >= 400 and early.body["success"] is False
    assert my_patients(doctor_browser, doctor_browser.email).data == []


# ---- the patient's journey ----


def test_options_without_a_date_count_the_upcoming_free_places(published, orthodontics):
    doctor_browser, _, _ = published
    options = appointment_options(ReferenceBrowser())
    option = option_named(options, orthodontics.name)
    assert len(option["slots"]) == 4  # "{slots.length} Spaces Available"
    assert Decimal(str(option["price"])) == Decimal("150.00")  # "Price: ${price}"
    # BookingModal.js: <option value={doc.docEmail}>{doc.name}</option>
    assert [(d["name"], d["docEmail"]) for d in option["doctors"]] == [
        ("Ref Doctor", doctor_browser.email)
    ]


@commits
def test_patient_books_pays_and_sees_paid(
    published, patient_browser, orthodontics, stripe_settings, stripe_client
):
    doctor_browser, first, _ = published
    browser = patient_browser

    # BookingModal.js: who am I (fetch, content-type and bearer) -> singleUser._id.
    me = browser.fetch(
        f"/user?userEmail={browser.email}",
        headers={"content-type": JSON, "authorization": browser.bearer()},
    )
    assert me.status == 200 and me.data["_id"] == browser.user.pk
    # Its first render fetches `slot/` with no doctor chosen yet: JSON the page can read.
    empty = browser.fetch("/slot/")
    assert empty.body["success"] is False and empty.data is None

    option = option_named(appointment_options(browser), orthodontics.name)
    doctor_email = option["doctors"][0]["docEmail"]
    doc_slot = doctor_slots_public(browser, doctor_email)["docSlot"]
    chosen = next(d for d in doc_slot if d["date"] == reference_date(first))
    label = chosen["slot"][0]

    answer = book(
        browser,
        patient=browser.user,
        patient_email=browser.email,
        doctor_email=doctor_email,
        treatment=option["name"],
        date_text=chosen["date"],
        label=label,
        price=option["price"],
    )
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "Success"  # toast.success("Booking Confirmed")
    booking = Booking.objects.get(patient=browser.user)
    assert booking.price == Decimal("150.00")

    # refetch(): one place fewer, and the booked label gone from the doctor's dates.
    assert len(option_named(appointment_options(browser), orthodontics.name)["slots"]) == 3
    labels = {d["date"]: d["slot"] for d in doctor_slots_public(browser, doctor_email)["docSlot"]}
    assert label not in labels.get(chosen["date"], [])

    # The same again: not "Success", and `toast.error(data.message)` has words to show.
    again = book(
        browser,
        patient=browser.user,
        patient_email=browser.email,
        doctor_email=doctor_email,
        treatment=option["name"],
        date_text=chosen["date"],
        label=label,
        price=option["price"],
    )
    assert again.body["status"] != "Success" and isinstance(again.body["message"], str)

    rows = my_appointments(browser, browser.email)
    assert len(rows) == 1
    row = rows[0]
    assert row["_id"] == booking.pk and row["treatment"] == orthodontics.name
    assert row["AppointmentDate"] == chosen["date"] and row["slot"] == label
    assert row["isPaid"] is False  # the "Pay" button links to /dashboard/payment/${_id}

    paid = pay(browser, stripe_client, booking_id=row["_id"], email=browser.email)
    assert paid.status == 200, paid.body
    assert paid.body["status"] == "Success"  # "Payment Completed"
    assert my_appointments(browser, browser.email)[0]["isPaid"] is True  # "Paid"

    # MyPatient.js, for the doctor: the patient, marked Paid.
    answer = my_patients(doctor_browser, doctor_browser.email)
    assert answer.status == 200, answer.body
    (patient_row,) = answer.data
    assert patient_row["_id"] == booking.pk
    assert patient_row["patient_name"] == browser.user.name
    assert patient_row["patient_email"] == browser.email
    assert patient_row["appointmentData"]["AppointmentDate"] == chosen["date"]
    assert patient_row["appointmentData"]["slot"] == label
    assert patient_row["appointmentData"]["isPaid"] is True


# ---- the admin's screens ----


def test_admin_lists_and_deletes_a_patient(admin_browser, patient_browser):
    patients = admin_list(admin_browser, "Patient")
    listed = next(u for u in patients if u["email"] == patient_browser.email)
    # AllPatient.js: _id, image, name, email.
    assert listed["_id"] == patient_browser.user.pk and listed["name"] == "Ref Patient"
    assert listed["image"].startswith("https://")

    answer = delete_user(admin_browser, listed["_id"])
    assert answer.status == 200, answer.body
    assert answer.data["deletedCount"] > 0  # toast.success("Patient deleted Successfully")
    assert User.objects.get(pk=listed["_id"]).is_active is False
    # refetch(): "Number of Patients" no longer counts them.
    assert listed["_id"] not in {u["_id"] for u in admin_list(admin_browser, "Patient")}


def test_admin_deletes_a_doctor_with_manage_doctors(admin_browser):
    doctor = DoctorFactory(profile__verified=False)
    answer = delete_user(admin_browser, doctor.pk)
    assert answer.status == 200, answer.body
    assert answer.data["deletedCount"] > 0  # toast.success("Doctor deleted Successfully")
    assert doctor.pk not in {u["_id"] for u in admin_list(admin_browser, "Doctor")}


def test_without_the_admin_role_the_admin_screens_answer_no_data(patient_browser):
    # AdminRoute sends a non-admin to /login; the API refuses the calls all the same.
    assert role_of(patient_browser, patient_browser.email) == "Patient"
    answer = patient_browser.fetch(
        "/users?userType=Patient", headers={"authorization": patient_browser.bearer()}
    )
    assert answer.status == 403 and answer.body["success"] is False


# ---- isverified: one value on every path that writes the user object ----


def test_isverified_agrees_on_every_path_of_the_user_object(admin_user, client_for):
    from accounts.serializers import UserSerializer

    verified = DoctorFactory(name="Verified Ref")
    unverified = DoctorFactory(name="Unverified Ref", profile__verified=False)
    client = client_for(admin_user)
    for doctor, expected in ((verified, "verified"), (unverified, None)):
        paths = {
            "list (compiled)": next(
                u
                for u in client.get("/api/v1/users?userType=Doctor&limit=100").json()["data"]
                if u["id"] == doctor.pk
            ),
            "search": client.get(f"/api/v1/users?searchTerm={doctor.email}").json()["data"][0],
            "by email": client.get(f"/api/v1/user?userEmail={doctor.email}").json()["data"],
            "by id": client.get(f"/api/v1/users/{doctor.pk}").json()["data"],
            "serializer": UserSerializer(User.objects.get(pk=doctor.pk)).data,
        }
        for where, shown in paths.items():
            assert shown["isverified"] == expected, where
            assert shown["isVerified"] is (expected is not None), where
    # Not a doctor's field: patients and admins have neither.
    me = client.get(f"/api/v1/users/{admin_user.pk}").json()["data"]
    assert "isverified" not in me and "isVerified" not in me


def test_the_schema_documents_isverified(client):
    schema = client.get("/api/v1/schema?format=json").json()
    user = schema["components"]["schemas"]["User"]["properties"]
    assert user["isVerified"]["type"] == "boolean"
    isverified = user["isverified"]
    assert isverified["nullable"] is True and "verified" in isverified["description"]
    enum = schema["components"]["schemas"][isverified["oneOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert enum["enum"] == ["verified"]
