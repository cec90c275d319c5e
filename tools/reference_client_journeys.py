"""Walks the reference web client's journeys in Chromium (docs/reference-client.md).

The client's build must already be served from its own origin (CLIENT), the app like
`make run` (API), localstripe (LOCALSTRIPE) and the Firebase Auth emulator that the
build connects to; the demo admin needs an emulator account with a verified email and
the password ADMIN_PASSWORD. Usage: python tools/reference_client_journeys.py SHOTS_DIR

Stand-ins (third parties), all as Playwright routes:
- api.imgbb.com (the sign-up picture upload) answers success with a picture on the client's
  own origin;
- js.stripe.com is localstripe's stand-in Stripe.js; its createPaymentMethod and
  confirmCardPayment cannot pay, so that one step is done as the backend's own pay page
  does it: the stand-in tokenises the card (createToken) and the intent is confirmed
  with that card with the test secret key (payments/views.py pay_complete);
- everything else off loopback is aborted.
"""

import base64
import json
import os
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import stripe
from playwright.sync_api import expect, sync_playwright

CLIENT = os.environ.get("CLIENT", "http://127.0.0.1:3000")
API = os.environ.get("API", "http://127.0.0.1:5009/api/v1")
LOCALSTRIPE = os.environ.get("LOCALSTRIPE", "http://127.0.0.1:8420")
SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "sk_test_localstripe_demo")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(sys.argv[1])
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "Secret#2026"
ADMIN = ("admin@demo.doctors-portal.test", os.environ.get("ADMIN_PASSWORD", "Admin#2026"))
RUN = uuid.uuid4().hex[:6]
DOCTOR_EMAIL = f"dr.ref-{RUN}@example.com"
PATIENT_EMAIL = f"patient.ref-{RUN}@example.com"
SERVICE = "Cosmetic Dentistry"  # no demo doctor offers it: the new doctor's options only
# A 1x1 PNG for the sign-up form's file input (the upload itself is stood in).
PICTURE = {
    "name": "photo.png",
    "mimeType": "image/png",
    "buffer": base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    ),
}
DHAKA = ZoneInfo("Asia/Dhaka")

STRIPE_WRAPPER = """
(() => {
  // The stand-in's createPaymentMethod/confirmCardPayment cannot pay: tokenise the card
  // with the stand-in and have the intent confirmed with it, as the backend's pay page does.
  let wrapped;
  Object.defineProperty(window, "Stripe", {
    configurable: true,
    get() { return wrapped; },
    set(factory) {
      wrapped = (key, options) => {
        const stripe = factory(key, options);
        let cardId = null;
        stripe.createPaymentMethod = async ({ card }) => {
          const result = await stripe.createToken(card);
          if (result.error || !result.token) {
            return { error: result.error || { message: "no token" } };
          }
          cardId = result.token.card.id;
          return { paymentMethod: { id: cardId, card: result.token.card } };
        };
        stripe.confirmCardPayment = async (clientSecret) => {
          if (!cardId) return { error: { message: "Check the card details." } };
          const intent = await window.__confirmWithTokenisedCard(clientSecret, cardId);
          return intent.error ? { error: intent.error } : { paymentIntent: intent };
        };
        return stripe;
      };
    },
  });
})();
"""

log_lines = []


def log(*parts):
    line = " ".join(str(p) for p in parts)
    log_lines.append(line)
    print(line, flush=True)


def confirm_with_tokenised_card(client_secret: str, card_id: str) -> dict:
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": LOCALSTRIPE})
    intent_id = client_secret.split("_secret_")[0]
    try:
        client.v1.payment_intents.update(intent_id, {"payment_method": card_id})
        intent = client.v1.payment_intents.confirm(intent_id)
    except stripe.StripeError as exc:
        return {"error": {"message": str(exc)}}
    log("  stand-in confirm:", intent.id, intent.status)
    return {"id": intent.id, "status": intent.status}


def new_context(browser, viewport):
    context = browser.new_context(viewport=viewport, timezone_id="Asia/Dhaka", locale="en-US")

    def only_loopback(route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            route.abort()

    def imgbb(route):
        log("  imgbb stand-in:", route.request.method, route.request.url.split("?")[0])
        route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
            body=json.dumps({"success": True, "data": {"url": f"{CLIENT}/logo192.png"}}),
        )

    def stripe_js(route):
        url = urlparse(route.request.url)
        target = LOCALSTRIPE + ("/js.stripe.com/v3/" if url.path.startswith("/v3") else url.path)
        if url.query:
            target += "?" + url.query
        response = route.fetch(url=target)
        headers = {**response.headers, "access-control-allow-origin": CLIENT}
        route.fulfill(response=response, headers=headers)

    context.route("**/*", only_loopback)
    context.route("https://api.imgbb.com/**", imgbb)
    context.route("https://js.stripe.com/**", stripe_js)
    context.add_init_script(STRIPE_WRAPPER)
    context.expose_function("__confirmWithTokenisedCard", confirm_with_tokenised_card)
    return context


def watch(page, who):
    def on_response(response):
        if response.url.startswith(API):
            path = response.url[len(API) :]
            log(f"  [{who}] {response.request.method} {path} -> {response.status}")

    page.on("response", on_response)
    page.on("pageerror", lambda exc: log(f"  [{who}] page error: {exc}"))
    page.on(
        "console",
        lambda msg: msg.type == "error" and log(f"  [{who}] console error: {msg.text[:200]}"),
    )


counter = {"n": 0}


def shot(page, name):
    counter["n"] += 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"ref-{counter['n']:02d}-{name}.png"
    page.wait_for_timeout(400)
    # The client's tables scroll sideways (overflow-x-auto): show their last columns
    # (Payment, Payment Status, Verified) in the picture.
    page.evaluate(
        "document.querySelectorAll('.overflow-x-auto')"
        ".forEach(e => { e.scrollLeft = e.scrollWidth; })"
    )
    page.screenshot(path=str(path), full_page=True)
    log("  screenshot", path.name)


def wait_token(page):
    page.wait_for_function("() => !!localStorage.getItem('accessToken')", timeout=20000)


def sign_up(page, *, name, email, role, specialty=None):
    page.goto(f"{CLIENT}/signup")
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.select_option("select[name=usertype]", role)
    if role == "Doctor":
        page.fill("input[name=registrationnumber]", "10077")
        page.select_option("select[name=specialty]", specialty)
    page.set_input_files("input[name=image]", files=[PICTURE])
    shot(page, f"{role.lower()}-sign-up-form")
    page.click("input[type=submit][value='Sign Up']")
    wait_token(page)
    page.wait_for_url(f"{CLIENT}/")


def sign_out_at_phone_width(page):
    page.click(".navbar-start .dropdown label")
    page.click(".navbar-start .dropdown button:has-text('Sign out')")
    page.wait_for_function("() => !localStorage.getItem('accessToken')")


def log_in(page, email, password):
    page.goto(f"{CLIENT}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit][value='Log In']")
    wait_token(page)


def clinic_day(days):
    return (datetime.now(DHAKA) + timedelta(days=days)).date()


def reference_date(day):
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def pick_day(page, day):
    caption = f"{day:%B} {day.year}"
    for _ in range(3):
        if page.locator(".rdp-caption_label", has_text=caption).count():
            break
        page.click("button[name=next-month]")
    page.locator("button[name=day]:not(.rdp-day_outside)").get_by_text(
        str(day.day), exact=True
    ).click()


def doctor_journey_until_published(browser):
    log("== Doctor: sign up, not verified yet")
    context = new_context(browser, DESKTOP)
    page = context.new_page()
    watch(page, "doctor")
    sign_up(page, name="Dr. Reference Client", email=DOCTOR_EMAIL, role="Doctor", specialty=SERVICE)
    page.goto(f"{CLIENT}/dashboard/newschedule")
    expect(page.get_by_text("Your are not verified by the Admin")).to_be_visible(timeout=15000)
    shot(page, "doctor-not-verified-yet")
    return context, page


def admin_verifies(browser):
    log("== Admin: log in, verify the doctor in Manage Doctor")
    context = new_context(browser, DESKTOP)
    page = context.new_page()
    watch(page, "admin")
    log_in(page, *ADMIN)
    page.goto(f"{CLIENT}/dashboard")
    page.click("a:has-text('Manage Doctor')")
    row = page.locator("tr", has_text=DOCTOR_EMAIL)
    expect(row).to_be_visible(timeout=15000)
    expect(row.get_by_role("button", name="Make Verified")).to_be_enabled()
    shot(page, "admin-manage-doctors-before")
    row.get_by_role("button", name="Make Verified").click()
    expect(row.get_by_role("button", name="Make Verified")).to_be_disabled(timeout=15000)
    shot(page, "admin-manage-doctors-verified")
    return context, page


def doctor_publishes(page):
    log("== Doctor: New Schedule with the client's own form and labels")
    days = [clinic_day(2), clinic_day(3)]
    page.goto(f"{CLIENT}/dashboard")
    page.click("a:has-text('New Schedule')")
    expect(page.locator(".rdp")).to_be_visible(timeout=15000)
    for day in days:
        pick_day(page, day)
    page.click("label:has-text('Add Slot')")
    forms = page.locator(".modal-box form")
    expect(forms).to_have_count(2)
    # DayPicker keeps the days in the order they were picked; the modal shows them so.
    choices = {
        reference_date(days[0]): ("10.00 AM-12.00 AM", "02.00 PM-03.00 PM"),
        reference_date(days[1]): ("12.00 AM-02.00 PM", "03.00 Pm-04.00 PM"),
    }
    for index in range(2):
        date_text = page.locator(".modal-box p.font-bold").nth(index).inner_text()
        first, second = choices[date_text]
        form = forms.nth(index)
        form.locator("select[name=slot1]").select_option(first)
        form.locator("select[name=slot2]").select_option(second)
        if index == 1:
            shot(page, "doctor-new-schedule-form")
        form.get_by_role("button", name="Add").click()
    with page.expect_response(
        lambda r: r.url == f"{API}/slots" and r.request.method == "POST"
    ) as r:
        page.click(".modal-action label:has-text('X')")
    log("  POST slots ->", r.value.status, r.value.text()[:300])
    assert r.value.status == 201, r.value.text()
    page.click("a:has-text('My Schedule')")
    for day in days:
        expect(page.get_by_text(reference_date(day))).to_be_visible(timeout=15000)
    shot(page, "doctor-my-schedule")
    return days


def patient_journey(browser, days):
    log("== Patient (phone width): sign up, log in, options, book, pay, Paid")
    context = new_context(browser, PHONE)
    page = context.new_page()
    watch(page, "patient")
    sign_up(page, name="Rina Reference", email=PATIENT_EMAIL, role="Patient")
    shot(page, "patient-signed-up-home")
    sign_out_at_phone_width(page)
    log_in(page, PATIENT_EMAIL, PASSWORD)
    page.goto(f"{CLIENT}/appointment")
    card = page.locator(".card", has_text=SERVICE)
    expect(card).to_contain_text("4 Spaces Available", timeout=15000)
    shot(page, "patient-appointment-options")
    card.locator("label:has-text('Book Appointment')").click()
    modal = page.locator(".modal-box", has_text="Please Select a Doctor")
    expect(modal).to_be_visible()
    modal.locator("select[name=doc]").select_option(DOCTOR_EMAIL)
    date_text = reference_date(days[0])
    modal.locator(f"select[name=date1] option[value='{date_text}']").wait_for(state="attached")
    modal.locator("select[name=date1]").select_option(date_text)
    modal.locator("select[name=slot] option").nth(1).wait_for(state="attached")
    label = modal.locator("select[name=slot] option").nth(1).inner_text()
    modal.locator("select[name=slot]").select_option(label)
    modal.locator("input[name=phone]").fill("01711000111")
    shot(page, "patient-booking-modal")
    modal.locator("input[type=submit][value=Submit]").click()
    expect(page.get_by_text("Booking Confirmed")).to_be_visible(timeout=15000)
    expect(card).to_contain_text("3 Spaces Available", timeout=15000)
    shot(page, "patient-booked-one-place-fewer")
    page.goto(f"{CLIENT}/dashboard")
    row = page.locator("tr", has_text=SERVICE)
    expect(row).to_contain_text(date_text, timeout=15000)
    shot(page, "patient-my-appointment-unpaid")
    row.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/dashboard/payment/**")
    page.locator("#root input[placeholder=number]").wait_for(timeout=15000)
    page.fill("input[placeholder=number]", "4242424242424242")
    page.fill("input[placeholder=exp_month]", "12")
    page.fill("input[placeholder=exp_year]", "34")
    page.fill("input[placeholder=cvc]", "123")
    page.fill("input[placeholder=postal_code]", "12345")
    pay = page.get_by_role("button", name="Pay")
    expect(pay).to_be_enabled(timeout=15000)
    shot(page, "patient-payment")
    pay.click()
    expect(page.get_by_text("Payment Confirmed")).to_be_visible(timeout=20000)
    page.wait_for_url(f"{CLIENT}/dashboard")
    expect(page.locator("tr", has_text=SERVICE)).to_contain_text("Paid", timeout=15000)
    shot(page, "patient-my-appointment-paid")
    context.close()
    return date_text, label


def doctor_sees_patient(page, date_text, label):
    log("== Doctor: My Patient shows the patient, Paid")
    page.goto(f"{CLIENT}/dashboard")
    page.click("a:has-text('My Patient')")
    row = page.locator("tr", has_text=PATIENT_EMAIL)
    expect(row).to_contain_text("Paid", timeout=15000)
    expect(row).to_contain_text(date_text)
    expect(row).to_contain_text(label)
    shot(page, "doctor-my-patient-paid")
    page.click("a:has-text('My Schedule')")
    page.wait_for_timeout(1500)
    shot(page, "doctor-my-schedule-after-booking")


def admin_deletes_patient(page):
    log("== Admin: All Patient, delete one")
    victim = "patient2@demo.doctors-portal.test"
    page.goto(f"{CLIENT}/dashboard")
    page.click("a:has-text('All Patient')")
    row = page.locator("tr", has_text=victim)
    expect(row).to_be_visible(timeout=15000)
    heading = page.locator("h1", has_text="Number of Patients")
    before = heading.inner_text()
    shot(page, "admin-all-patients")
    row.locator("label[for=confirmation-modal]").click()
    expect(page.get_by_text("Are you sure?")).to_be_visible()
    shot(page, "admin-delete-confirm")
    page.locator(".modal-action label", has_text="Delete").click()
    expect(page.get_by_text("Patient deleted Successfully")).to_be_visible(timeout=15000)
    expect(page.locator("tr", has_text=victim)).to_have_count(0, timeout=15000)
    log("  ", before, "->", heading.inner_text())
    shot(page, "admin-patient-deleted")


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        doctor_context, doctor_page = doctor_journey_until_published(browser)
        admin_context, admin_page = admin_verifies(browser)
        days = doctor_publishes(doctor_page)
        date_text, label = patient_journey(browser, days)
        doctor_sees_patient(doctor_page, date_text, label)
        admin_deletes_patient(admin_page)
        doctor_context.close()
        admin_context.close()
        browser.close()
    log("ALL JOURNEYS PASSED")


if __name__ == "__main__":
    try:
        main()
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "journeys.log").write_text("\n".join(log_lines) + "\n")
