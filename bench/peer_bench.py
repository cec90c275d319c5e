"""Side by side with django-appointment (issue 16): a companion of bench/bench.py.

    .venv/bin/python bench/bench.py run          # runs `peer_bench.py measure --size S` per size
    BENCH_COMPANIONS=peer_bench BENCH_ENDPOINTS=floor BENCH_SIZES=10k .venv/bin/python \
        bench/bench.py run                         # this comparison alone (and the floor)

`measure --size S` runs with the server's environment (DATABASE_URL of that size's dataset).
It installs django-appointment (PEER_PACKAGE), gunicorn and psycopg, the versions ours runs,
into a virtualenv of its own under bench/out/ (once; reused after), writes a minimal Django
project for it there, and mirrors our dataset into a PostgreSQL database of its own
(<our database>_peer): the same users, services and doctors (staff members), working hours
that give the doctors of the date asked the same slots as ours, and one appointment per
booking of ours, so its tables are as large as ours. A booking that holds a seat lies where
its slot is; a cancelled or lapsed one (the peer deletes an appointment to cancel it) lies
in the history, so the date asked shows the same free slots on both sides (checked against
both servers before measuring). Both are served by gunicorn with the same number of sync
workers on the same PostgreSQL, and driven in interleaved rounds (ours, peer, ours, peer):

- free slots for a date: ours `appointmentOptions?date=` (with the availability cache, and
  asked of a second server without it) covers every doctor of that date; the peer's
  `ajax/available_slots/` covers one doctor (its booking page asks it per doctor), asked in
  turn for each doctor of the date; reported per request and per doctor covered;
- one doctor's free slots: ours `slot/<email>` (the doctor's free slots in the booking
  window, its first page), the peer's `ajax/available_slots/` for that doctor and the date
  asked;
- one booking write: ours `POST bookings {slotId}` with a JWT, one request; the peer's
  booking flow, two requests with a logged-in session and its CSRF cookie: `POST
  request-submit/` (the appointment request; 302 to the client-information page) and `POST
  client-info/<id>/<id_request>/` (creates the appointment; 302 to the thank-you page);
- the storm: 32 concurrent bookings of one seat on each side; what each sold.

Reads are driven by wrk (one connection per worker), writes by threads with one keep-alive
client each (as many as workers). Results: bench/out/peer_bench-<size>.json; `section(OUT)`
gives RESULTS.md its table. Nothing of the peer is committed: its venv, project and database
are made here.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.metadata
import itertools
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import bench  # noqa: E402

OUT = bench.OUT
PEER_PACKAGE = "django-appointment==3.12.0"
VENV = OUT / "peer-venv"
PROJECT = OUT / "peer-project"
ROUNDS = bench.ROUNDS
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
# Requests per side over all rounds (writes: bookings), and the storm's size.
READS = int(500 * SCALE)
WRITES = int(200 * SCALE)
WARM_READS = 50  # per worker
WARM_WRITES = 30
STORM = 32
# make_dataset gives the doctors of the date this many slots each; asserted from the data.
CSRF = "peerbench" + "0" * 23  # a CSRF cookie secret (32 characters), as the page would set
CLIENT_PREFIX = "peer-bench-"


def log(message: str) -> None:
    print(f"[peer {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- the peer's install


PEER_SETTINGS = '''"""django-appointment's project for bench/peer_bench.py (generated)."""
import logging
import os
from urllib.parse import urlsplit

_db = urlsplit(os.environ["PEER_DATABASE_URL"])
SECRET_KEY = os.environ["PEER_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "phonenumber_field",
    "appointment",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peerproj.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
        ]},
    }
]
WSGI_APPLICATION = "peerproj.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname,
        "PORT": _db.port or 5432,
        # As ours (DB_CONN_MAX_AGE, health checks on).
        "CONN_MAX_AGE": int(os.environ.get("PEER_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
    }
}
LANGUAGE_CODE = "en-us"
# The peer keeps wall-clock times of one zone: the clinic's.
TIME_ZONE = os.environ["PEER_TIME_ZONE"]
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
APPOINTMENT_WEBSITE_NAME = "Doctors Portal bench"
PHONENUMBER_DEFAULT_REGION = "BD"
# No EMAIL_HOST and co.: django-appointment then sends no mail (its documented behaviour);
# ours sends none in these requests either.
# Its loggers are set to DEBUG with a stdout handler of their own; ours runs at ERROR.
logging.disable(logging.WARNING)
'''

PEER_URLS = """from django.http import HttpResponse
from django.urls import include, path


def health(request):
    return HttpResponse("ok")


urlpatterns = [
    path("health", health),
    path("appointment/", include("appointment.urls")),
]
"""

PEER_WSGI = """import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerproj.settings")
application = get_wsgi_application()
"""

# Run with the peer's python: the rows that need its models (password hashes, sessions).
PEER_TOOL = '''"""Set-up inside django-appointment's Django (generated by bench/peer_bench.py)."""
import json
import sys
from datetime import time, timedelta

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.color import no_style
from django.db import connection, transaction

from appointment.models import Config, Service, StaffMember, WorkingHours

User = get_user_model()


def hm(text):
    return time(*map(int, text.split(":")))


def load(spec):
    """Users, services, staff members, working hours and the Config, ids as ours."""
    with transaction.atomic():
        User.objects.bulk_create(
            [
                User(
                    id=u["id"], username=u["email"], email=u["email"], first_name=u["name"][:150],
                    is_staff=u["staff"], password="!",
                )
                for u in spec["users"]
            ],
            batch_size=5000,
        )
        Service.objects.bulk_create(
            [
                Service(
                    id=s["id"], name=s["name"], price=s["price"], currency=s["currency"],
                    duration=timedelta(minutes=s["minutes"]),
                )
                for s in spec["services"]
            ]
        )
        StaffMember.objects.bulk_create(
            [
                StaffMember(
                    id=m["id"], user_id=m["id"], slot_duration=m["step"],
                    work_on_saturday=True, work_on_sunday=True,
                )
                for m in spec["staff"]
            ],
            batch_size=5000,
        )
        through = StaffMember.services_offered.through
        through.objects.bulk_create(
            [
                through(staffmember_id=m["id"], service_id=m["service"])
                for m in spec["staff"]
                if m["service"]
            ],
            batch_size=5000,
        )
        WorkingHours.objects.bulk_create(
            [
                WorkingHours(
                    staff_member_id=h["staff"], day_of_week=h["weekday"],
                    start_time=hm(h["start"]), end_time=hm(h["end"]),
                )
                for h in spec["hours"]
            ]
        )
        c = spec["config"]
        Config(
            slot_duration=c["step"], lead_time=hm(c["start"]), finish_time=hm(c["end"]),
            appointment_buffer_time=0,
        ).save()
        models = [User, Service, StaffMember, through, WorkingHours, Config]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)


def clients(spec):
    """A staff member of its own (working every day) and logged-in clients with sessions."""
    p = spec["prefix"]
    with transaction.atomic():
        staff_user = User.objects.create(
            username=f"{p}staff@example.com", email=f"{p}staff@example.com",
            first_name="Storm Doctor", is_staff=True, password="!",
        )
        staff = StaffMember.objects.create(
            user=staff_user, slot_duration=spec["step"], work_on_saturday=True,
            work_on_sunday=True,
        )
        staff.services_offered.add(spec["service"])
        WorkingHours.objects.bulk_create(
            [
                WorkingHours(
                    staff_member=staff, day_of_week=d, start_time=hm(spec["start"]),
                    end_time=hm(spec["end"]),
                )
                for d in range(7)
            ]
        )
        users = User.objects.bulk_create(
            [
                User(
                    username=f"{p}{i}@example.com", email=f"{p}{i}@example.com",
                    first_name=f"Patient {i}", password="!",
                )
                for i in range(spec["n"])
            ]
        )
    sessions = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    return {"staff": staff.pk, "sessions": sessions}


if __name__ == "__main__":
    command, spec_path, out_path = sys.argv[1:4]
    spec = json.loads(open(spec_path).read())
    result = {"load": load, "clients": clients}[command](spec)
    open(out_path, "w").write(json.dumps(result or {}))
'''


def peer_python() -> Path:
    """The peer's virtualenv: django-appointment and the gunicorn and psycopg ours runs."""
    py = VENV / "bin" / "python"
    wanted = [
        PEER_PACKAGE,
        f"gunicorn=={importlib.metadata.version('gunicorn')}",
        f"psycopg[binary]=={importlib.metadata.version('psycopg')}",
    ]
    marker = VENV / "peer-bench-requirements.txt"
    if py.exists() and marker.exists() and marker.read_text().split() == wanted:
        return py
    log(f"installing {' '.join(wanted)} into {VENV.relative_to(bench.ROOT)}")
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
        check=True,
    )
    marker.write_text("\n".join(wanted) + "\n")
    return py


def write_project() -> None:
    package = PROJECT / "peerproj"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(PEER_SETTINGS)
    (package / "urls.py").write_text(PEER_URLS)
    (package / "wsgi.py").write_text(PEER_WSGI)
    (PROJECT / "peertool.py").write_text(PEER_TOOL)


def peer_env(url: str, secret: str, tz: str) -> dict:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="peerproj.settings",
        PEER_DATABASE_URL=url,
        PEER_SECRET_KEY=secret,
        PEER_TIME_ZONE=tz,
        PEER_CONN_MAX_AGE=os.environ.get("DB_CONN_MAX_AGE", "60"),
        PYTHONPATH=str(PROJECT),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def peer_tool(py: Path, env: dict, command: str, spec: dict) -> dict:
    spec_path = OUT / f"peer-{command}-spec.json"
    out_path = OUT / f"peer-{command}-out.json"
    spec_path.write_text(json.dumps(spec))
    subprocess.run(
        [str(py), str(PROJECT / "peertool.py"), command, str(spec_path), str(out_path)],
        cwd=PROJECT,
        env=env,
        check=True,
    )
    return json.loads(out_path.read_text())


def peer_server(py: Path, env: dict, workers: int) -> bench.Server:
    """The same gunicorn command line as ours, for the peer's project in its own venv."""
    return bench.Server(
        env, workers, python=str(py), app="peerproj.wsgi:application", cwd=PROJECT, health="/health"
    )


# ---------------------------------------------------------------- what ours has


def our_date(d: dict) -> dict:
    """The date asked on our side: every slot of it, per doctor, and the times left free."""
    from zoneinfo import ZoneInfo

    from django.conf import settings

    from scheduling.models import Slot, SlotStatus

    tz = ZoneInfo(settings.CLINIC_TIME_ZONE)
    day = date.fromisoformat(d["date"])
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    rows = list(
        Slot.objects.filter(
            start__gte=start,
            start__lt=start + timedelta(days=1),
            status=SlotStatus.PUBLISHED,
            doctor__doctor_profile__is_verified=True,
        )
        .order_by("doctor_id", "start")
        .values("doctor_id", "doctor__email", "service_id", "start", "end")
    )
    doctors: dict[int, dict] = {}
    for row in rows:
        local, end = row["start"].astimezone(tz), row["end"].astimezone(tz)
        doc = doctors.setdefault(
            row["doctor_id"],
            {"email": row["doctor__email"], "service": row["service_id"], "times": []},
        )
        doc["times"].append(local.strftime("%H:%M"))
        doc["minutes"] = int((end - local).total_seconds() // 60)
    steps = set()
    for doc in doctors.values():
        t = [datetime.strptime(x, "%H:%M") for x in doc["times"]]
        steps |= {int((b - a).total_seconds() // 60) for a, b in itertools.pairwise(t)}
    if len(steps) != 1:
        raise SystemExit(f"peer_bench: the date's slots are not evenly spaced ({steps})")
    return {"tz": settings.CLINIC_TIME_ZONE, "day": day, "doctors": doctors, "step": steps.pop()}


def our_free(base: str, day: str) -> dict[int, list[str]]:
    """Free times per doctor on the date, as ours answers appointmentOptions?date=."""
    status, raw = bench.fetch(base, f"/api/v1/appointmentOptions?date={day}", "")
    if status != 200:
        raise RuntimeError(f"appointmentOptions answered {status}")
    free: dict[int, list[str]] = {}
    for item in json.loads(raw)["data"]:
        for s in item["slots"]:
            if s["available"] > 0:
                free.setdefault(s["doctor"]["id"], []).append(s["start"][11:16])
    return {doc: sorted(times) for doc, times in free.items()}


# ---------------------------------------------------------------- the peer's dataset


def hm_plus(text: str, minutes: int) -> str:
    t = datetime.strptime(text, "%H:%M") + timedelta(minutes=minutes)
    return t.strftime("%H:%M")


def peer_weekday(day: date) -> int:
    return day.isoweekday() % 7  # django-appointment: 0 = Sunday ... 6 = Saturday


def build_peer(py: Path, env: dict, db: str, d: dict, od: dict, free: dict) -> dict:
    """Mirror our dataset into the peer's database, or reuse it when it mirrors this state."""
    from zoneinfo import ZoneInfo

    import psycopg
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from accounts.models import DoctorProfile, Role, User
    from bookings.models import Booking
    from scheduling.models import Service

    today = timezone.now().astimezone(ZoneInfo(od["tz"])).date()
    max_booking = Booking.objects.aggregate(m=Max("id"))["m"] or 0
    signature = json.dumps(
        {
            "peer": PEER_PACKAGE,
            "ours": connection.settings_dict["NAME"],
            "totals": d["totals"],
            "max_booking": max_booking,
            "date": d["date"],
            "today": today.isoformat(),
            "free": hashlib.sha256(json.dumps(sorted(free.items())).encode()).hexdigest(),
        },
        sort_keys=True,
    )
    url = f"{bench.PG_URL}/{db}"
    if bench.psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'").strip() == "1":
        try:
            have = bench.psql("SELECT sig FROM peer_bench_signature", db=db).strip()
        except Exception:
            have = ""
        if have == signature:
            log(f"{db}: reusing (it mirrors this dataset and date)")
            return {"db": db, "build_seconds": None, "max_mirrored": max_booking}
        bench.psql(f'DROP DATABASE "{db}" WITH (FORCE)')
    started = time.monotonic()
    bench.psql(f'CREATE DATABASE "{db}"')
    # The package ships no migrations; its README has them made in the project.
    for command in (["makemigrations", "appointment"], ["migrate", "--no-input"]):
        subprocess.run([str(py), "-m", "django", *command, "-v0"], cwd=PROJECT, env=env, check=True)
    profiles = dict(DoctorProfile.objects.values_list("user_id", "specialty_id"))
    minutes = {doc["service"]: doc["minutes"] for doc in od["doctors"].values()}
    default_minutes = next(iter(minutes.values()))
    first = min(t for doc in od["doctors"].values() for t in doc["times"])
    weekday = peer_weekday(od["day"])
    spec = {
        "users": [
            {"id": pk, "email": email, "name": name, "staff": role == Role.DOCTOR}
            for pk, email, name, role in User.objects.values_list("id", "email", "name", "role")
        ],
        "services": [
            {
                "id": s.pk,
                "name": s.name,
                "price": str(s.price),
                "currency": s.currency.upper()[:3],
                "minutes": minutes.get(s.pk, default_minutes),
            }
            for s in Service.objects.order_by("id")
        ],
        "staff": [
            {"id": pk, "service": profiles.get(pk), "step": od["step"]}
            for pk in User.objects.filter(role=Role.DOCTOR).values_list("id", flat=True)
        ],
        # The doctors of the date work that weekday, from their first slot to the end of
        # their last: the peer then offers the same times as our slots.
        "hours": [
            {
                "staff": pk,
                "weekday": weekday,
                "start": doc["times"][0],
                "end": hm_plus(doc["times"][-1], od["step"]),
            }
            for pk, doc in od["doctors"].items()
        ],
        "config": {"step": od["step"], "start": first, "end": hm_plus(first, 14 * 60)},
    }
    peer_tool(py, env, "load", spec)
    log(f"{db}: {len(spec['users']):,} users, {len(spec['staff']):,} staff members loaded")
    # One appointment (and its appointment request) per booking, streamed with COPY.
    placed = (
        "SELECT b.id, b.patient_id, b.doctor_id, b.service_id, b.price, b.status, b.created_at,"
        " b.day, b.st, b.et,"
        " CASE WHEN b.live OR b.day <= {today} THEN b.day"
        " ELSE {today} - (b.day - {today}) END AS placed"
        " FROM (SELECT b.*, (s.start AT TIME ZONE {tz})::date AS day,"
        " (s.start AT TIME ZONE {tz})::time AS st, (s.end AT TIME ZONE {tz})::time AS et,"
        " (b.status = 'confirmed' OR (b.status = 'pending_payment' AND b.expires_at > now()))"
        " AS live FROM bookings_booking b JOIN scheduling_slot s ON s.id = b.slot_id) b"
    )
    copies = [
        (
            "SELECT id, placed, st, et, service_id, doctor_id, 'full', 'bench-' || id, 0,"
            " created_at, created_at FROM ({placed}) p ORDER BY id",
            "appointment_appointmentrequest (id, date, start_time, end_time, service_id,"
            " staff_member_id, payment_type, id_request, reschedule_attempts, created_at,"
            " updated_at)",
        ),
        (
            "SELECT id, patient_id, id, '', '', false, NULL, status = 'confirmed', price,"
            " 'bench-' || id, created_at, created_at FROM ({placed}) p ORDER BY id",
            "appointment_appointment (id, client_id, appointment_request_id, phone, address,"
            " want_reminder, additional_info, paid, amount_to_pay, id_request, created_at,"
            " updated_at)",
        ),
    ]
    from psycopg import sql

    literals = {"today": sql.Literal(today), "tz": sql.Literal(od["tz"])}
    inner = sql.SQL(placed).format(**literals)
    with connection.cursor() as ours, psycopg.connect(url) as peer:
        try:
            # The rows are consistent by construction: skip the per-row foreign-key checks
            # (a superuser's setting; without it the load only takes longer).
            peer.execute("SET session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            peer.rollback()
        for select, target in copies:
            out_sql = sql.SQL("COPY (" + select + ") TO STDOUT").format(placed=inner)
            with (
                ours.cursor.copy(out_sql) as source,
                peer.cursor().copy(f"COPY {target} FROM STDIN") as sink,
            ):
                for chunk in source:
                    sink.write(chunk)
        for table in ("appointment_appointmentrequest", "appointment_appointment"):
            peer.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" GREATEST((SELECT max(id) FROM {table}), 1))"
            )
        peer.execute("CREATE TABLE peer_bench_signature (sig text)")
        peer.execute("INSERT INTO peer_bench_signature VALUES (%s)", [signature])
    bench.psql("VACUUM ANALYZE", db=db)
    seconds = round(time.monotonic() - started, 1)
    log(f"{db}: built in {seconds}s")
    return {"db": db, "build_seconds": seconds, "max_mirrored": max_booking}


def peer_cleanup(db: str, max_mirrored: int) -> None:
    """Remove what a run added (appointments past the mirrored ones, its users, sessions)."""
    like = f"'{CLIENT_PREFIX}%'"
    staff = f"SELECT id FROM appointment_staffmember WHERE user_id IN ({_users(like)})"
    for statement in (
        "DELETE FROM appointment_appointment WHERE appointment_request_id IN"
        f" (SELECT id FROM appointment_appointmentrequest WHERE id > {max_mirrored})",
        f"DELETE FROM appointment_appointmentrequest WHERE id > {max_mirrored}",
        "DELETE FROM django_session",
        f"DELETE FROM appointment_workinghours WHERE staff_member_id IN ({staff})",
        f"DELETE FROM appointment_staffmember_services_offered WHERE staffmember_id IN ({staff})",
        f"DELETE FROM appointment_staffmember WHERE id IN ({staff})",
        f"DELETE FROM auth_user WHERE id IN ({_users(like)})",
    ):
        bench.psql(statement, db=db)


def _users(like: str) -> str:
    return f"SELECT id FROM auth_user WHERE email LIKE {like}"


def peer_sold(db: str, staff: int, day: str, at: str) -> int:
    return int(
        bench.psql(
            "SELECT count(*) FROM appointment_appointment a JOIN appointment_appointmentrequest r"
            f" ON r.id = a.appointment_request_id WHERE r.staff_member_id = {staff}"
            f" AND r.date = '{day}' AND r.start_time = '{at}'",
            db=db,
        )
    )


# ---------------------------------------------------------------- drivers


def wrk_lines(base: str, lines: list[str], requests: int, connections: int) -> dict:
    """bench.py's wrk driver over these request lines in turn."""
    path = OUT / "peer-requests.txt"
    path.write_text("".join(line + "\n" for line in lines))
    return bench.wrk_mix(base, path, requests=requests, connections=connections)


AJAX = "X-Requested-With: XMLHttpRequest"


def peer_slots(base: str, staff: int, day: str, service: int) -> tuple[list[str], int]:
    """The peer's free times for a staff member on a date (and the answer's size)."""
    path = f"/appointment/ajax/available_slots/?selected_date={day}&staff_member={staff}"
    req = urllib.request.Request(f"{base}{path}&service_id={service}")
    req.add_header("X-Requested-With", "XMLHttpRequest")
    with urllib.request.urlopen(req, timeout=30) as r:
        raw = r.read()
    return sorted(iso[11:16] for iso, _label in json.loads(raw).get("available_slots", [])), len(
        raw
    )


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict):
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status, response.getheader("Location") or ""


def ours_book(conn, job) -> tuple[bool, list[int]]:
    token, slot_id = job
    status, _ = _post(
        conn,
        "/api/v1/bookings",
        json.dumps({"slotId": slot_id}).encode(),
        {"Authorization": token, "Content-Type": "application/json"},
    )
    return status == 201, [status]


def peer_book(conn, job) -> tuple[bool, list[int]]:
    """The peer's booking: the appointment request, then the client's information."""
    session, form = job
    headers = {
        "Cookie": f"csrftoken={CSRF}; sessionid={session}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = urlencode({**form, "csrfmiddlewaretoken": CSRF}).encode()
    first, location = _post(conn, "/appointment/request-submit/", body, headers)
    if first != 302 or "/client-info/" not in location:
        return False, [first]
    info = {
        "name": "Patient Bench",
        "phone_0": "BD",
        "phone_1": "01712345678",
        "address": "",
        "additional_info": "",
        "payment_type": "full",
        "csrfmiddlewaretoken": CSRF,
    }
    second, location = _post(conn, urlsplit(location).path, urlencode(info).encode(), headers)
    return second == 302 and "/thank-you/" in location, [first, second]


def drive(base: str, jobs: list, book, clients: int) -> dict:
    """`clients` threads, one keep-alive connection each, sharing the jobs; per-booking time."""
    port = urlsplit(base).port
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    failed = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(chunk: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        for job in chunk:
            began = time.perf_counter()
            try:
                ok, codes = book(conn, job)
            except OSError:
                ok, codes = False, [-1]
                conn.close()
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                failed[0] += not ok
                for code in codes:
                    statuses[str(code)] = statuses.get(str(code), 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(jobs[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(jobs),
        "rps": round(len(jobs) / wall, 1),
        "p50_us": int(statistics.median(latencies) * 1e6),
        "p99_us": int(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e6),
        "status_errors": failed[0],
        "statuses": statuses,
    }


def peer_storm(base: str, db: str, sessions: list[str], staff: int, form: dict) -> dict:
    """STORM logged-in clients book one staff member's one time at once."""
    day, at = form["date"], form["start_time"]
    before, _ = peer_slots(base, staff, day, form["service"])
    barrier = threading.Barrier(len(sessions))
    outcome: list = [None] * len(sessions)
    port = urlsplit(base).port

    def one(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        try:
            outcome[i] = peer_book(conn, (sessions[i], form))
        except OSError:
            outcome[i] = (False, [-1])
        conn.close()

    began = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = round(time.monotonic() - began, 2)
    after, _ = peer_slots(base, staff, day, form["service"])
    statuses: dict[str, int] = {}
    for _ok, codes in outcome:
        for code in codes:
            statuses[str(code)] = statuses.get(str(code), 0) + 1
    return {
        "requests": len(sessions),
        "capacity": 1,
        "sold": peer_sold(db, staff, day, at + ":00"),
        "created": sum(1 for ok, _ in outcome if ok),
        "statuses": statuses,
        "seconds": seconds,
        "shown_before": at in before,
        "shown_after": at in after,
    }


# ---------------------------------------------------------------- one size


def our_writers(od: dict, n: int, service_id: int) -> list[tuple[str, int]]:
    """n patients and n one-seat slots of a doctor of its own (removed by storm_cleanup)."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from accounts.models import DoctorProfile, Role, User
    from scheduling.models import Service, Slot

    tag = secrets.token_hex(4)
    service = Service.objects.get(pk=service_id)
    doctor = User.objects.create_user(
        f"storm-peerw-{tag}@example.com", name="Peer Write Doctor", role=Role.DOCTOR
    )
    DoctorProfile.objects.create(
        user=doctor, specialty=service, is_verified=True, verified_at=timezone.now()
    )
    tz = ZoneInfo(od["tz"])
    times = next(iter(od["doctors"].values()))["times"]
    minutes = next(iter(od["doctors"].values()))["minutes"]
    slots = []
    for i in range(n):
        day = od["day"] + timedelta(days=1 + i // len(times))
        start = datetime.combine(day, datetime.strptime(times[i % len(times)], "%H:%M").time())
        start = start.replace(tzinfo=tz)
        slots.append(
            Slot(
                doctor=doctor,
                service=service,
                start=start,
                end=start + timedelta(minutes=minutes),
                capacity=1,
            )
        )
    slots = Slot.objects.bulk_create(slots)
    patients = User.objects.bulk_create(
        User(email=f"storm-peerw-{tag}-{i}@example.com", name=f"Writer {i}", role=Role.PATIENT)
        for i in range(n)
    )
    return [(bench.token_for(p), s.pk) for p, s in zip(patients, slots, strict=True)]


def measure(size: str) -> dict:
    bench.setup_django()
    from django.db import connection

    workers = (os.cpu_count() or 1) + 1  # as bench.py's default: cores + 1
    started = time.monotonic()
    py = peer_python()
    write_project()
    bench.storm_cleanup()
    from django.core.cache import caches

    for alias in ("default", "availability"):
        caches[alias].clear()
    d = bench.discover()
    od = our_date(d)
    doctors = sorted(od["doctors"])
    connection.close()
    db = f"{connection.settings_dict['NAME']}_peer"
    env = peer_env(f"{bench.PG_URL}/{db}", secrets.token_urlsafe(48), od["tz"])
    ours = bench.Server(dict(os.environ), workers)
    computing = peer = None
    result: dict = {"size": size, "workers": workers, "peer": PEER_PACKAGE, "date": d["date"]}
    try:
        computing = bench.Server({**os.environ, "REDIS_URL": ""}, workers)
        free = our_free(ours.base, d["date"])
        built = build_peer(py, env, db, d, od, free)
        peer_cleanup(db, built["max_mirrored"])
        peer = peer_server(py, env, workers)
        # Like for like: the date's free times per doctor, as each server answers.
        service_of = {pk: od["doctors"][pk]["service"] for pk in doctors}
        peer_free = {pk: peer_slots(peer.base, pk, d["date"], service_of[pk])[0] for pk in doctors}
        ours_free = {pk: free.get(pk, []) for pk in doctors}
        same = peer_free == ours_free
        appointments = int(bench.psql("SELECT count(*) FROM appointment_appointment", db=db))
        result["dataset"] = {
            "db": db,
            "build_seconds": built["build_seconds"],
            "doctors_on_date": len(doctors),
            "slots_on_date": sum(len(od["doctors"][pk]["times"]) for pk in doctors),
            "free_ours": sum(len(v) for v in ours_free.values()),
            "free_peer": sum(len(v) for v in peer_free.values()),
            "free_equal": same,
            "bookings_ours": d["totals"]["bookings"],
            "appointments_peer": appointments,
        }
        log(f"{size}: {result['dataset']}")
        if not same:
            log("the date's free slots differ between ours and the peer")
        # One doctor of the date: the one with the most free times (the first of them).
        one = max(doctors, key=lambda pk: (len(ours_free[pk]), -pk))
        one_email = od["doctors"][one]["email"]

        def peer_line(pk: int) -> str:
            return (
                f"/appointment/ajax/available_slots/?selected_date={d['date']}"
                f"&staff_member={pk}&service_id={service_of[pk]}\t\t{AJAX}"
            )

        reads = {
            "ours_date": (ours.base, [f"/api/v1/appointmentOptions?date={d['date']}"]),
            "ours_date_computed": (
                computing.base,
                [f"/api/v1/appointmentOptions?date={d['date']}"],
            ),
            "peer_date": (peer.base, [peer_line(pk) for pk in doctors]),
            "ours_doctor": (ours.base, [f"/api/v1/slot/{quote(one_email)}"]),
            "peer_doctor": (peer.base, [peer_line(one)]),
        }
        result["bytes"] = {
            "ours_date": len(bench.fetch(ours.base, reads["ours_date"][1][0], "")[1]),
            "peer_date": peer_slots(peer.base, doctors[0], d["date"], service_of[doctors[0]])[1],
            "ours_doctor": len(bench.fetch(ours.base, reads["ours_doctor"][1][0], "")[1]),
        }
        # Writers: ours a doctor of its own with one-seat slots, the peer a staff member of its
        # own working every day; same times, from the date asked on.
        per_round = max(10, WRITES // ROUNDS)
        total_writes = WARM_WRITES + per_round * ROUNDS
        service = od["doctors"][one]["service"]
        ours_jobs = our_writers(od, total_writes, service)
        times = od["doctors"][one]["times"]
        minutes = od["doctors"][one]["minutes"]
        made = peer_tool(
            py,
            env,
            "clients",
            {
                "prefix": CLIENT_PREFIX,
                "n": total_writes + STORM,
                "service": service,
                "step": od["step"],
                "start": times[0],
                "end": hm_plus(times[-1], od["step"]),
            },
        )
        forms = []
        for i in range(total_writes + 1):
            day = od["day"] + timedelta(days=1 + i // len(times))
            at = times[i % len(times)]
            forms.append(
                {
                    "date": day.isoformat(),
                    "start_time": at,
                    "end_time": hm_plus(at, minutes),
                    "service": service,
                    "staff_member": made["staff"],
                }
            )
        peer_jobs = list(zip(made["sessions"][:total_writes], forms, strict=False))
        connection.close()

        def run(key: str, n: int, jobs=None) -> dict:
            if key in reads:
                base, lines = reads[key]
                return wrk_lines(base, lines, n, workers)
            if key == "ours_write":
                return drive(ours.base, jobs, ours_book, workers)
            return drive(peer.base, jobs, peer_book, workers)

        log(f"{size}: warm-up")
        for key in reads:
            run(key, WARM_READS * workers)
        run("ours_write", 0, ours_jobs[:WARM_WRITES])
        run("peer_write", 0, peer_jobs[:WARM_WRITES])
        order = [
            "ours_date",
            "peer_date",
            "ours_date_computed",
            "ours_doctor",
            "peer_doctor",
            "ours_write",
            "peer_write",
        ]
        rounds: dict[str, list[dict]] = {key: [] for key in order}
        n_reads = max(50, READS // ROUNDS)
        for r in range(ROUNDS):
            lo = WARM_WRITES + r * per_round
            for key in order:
                jobs = {"ours_write": ours_jobs, "peer_write": peer_jobs}.get(key)
                got = run(key, n_reads, jobs[lo : lo + per_round] if jobs else None)
                rounds[key].append(got)
                log(
                    f"{size} round {r + 1} {key}: {got['rps']} req/s, "
                    f"p50 {got['p50_us'] / 1000:.1f} ms, errors {got['status_errors']}"
                )
        result["routes"] = {}
        for key, runs in rounds.items():
            result["routes"][key] = {
                "rps": statistics.median(x["rps"] for x in runs),
                "p50_us": statistics.median(x["p50_us"] for x in runs),
                "p99_us": statistics.median(x["p99_us"] for x in runs),
                "requests": sum(x["requests"] for x in runs),
                "errors": sum(x["status_errors"] for x in runs),
                "rps_per_round": [x["rps"] for x in runs],
            }
            if "statuses" in runs[0]:
                merged: dict[str, int] = {}
                for x in runs:
                    for code, count in x["statuses"].items():
                        merged[code] = merged.get(code, 0) + count
                result["routes"][key]["statuses"] = merged
        result["doctors_per_date_request"] = {"ours": len(doctors), "peer": 1}
        result["one_doctor"] = {"email": one_email, "ours_dates": "the booking window"}
        # The storms: one seat each, STORM at once.
        ours_storm = bench.storm(ours.base, requests=STORM, slots=1)
        result["storm"] = {
            "ours": ours_storm,
            "peer": peer_storm(
                peer.base, db, made["sessions"][total_writes:], made["staff"], forms[-1]
            ),
        }
        log(f"{size} storm: ours sold {ours_storm['sold']}, peer sold {result['storm']['peer']}")
        # Still like for like at the end (a hold of ours may have lapsed meanwhile).
        after = our_free(ours.base, d["date"])
        peer_after = {pk: peer_slots(peer.base, pk, d["date"], service_of[pk])[0] for pk in doctors}
        result["dataset"]["free_after"] = {
            "ours": sum(len(after.get(pk, [])) for pk in doctors),
            "peer": sum(len(v) for v in peer_after.values()),
            "equal": peer_after == {pk: after.get(pk, []) for pk in doctors},
        }
    finally:
        for server in (ours, computing, peer):
            if server is not None:
                server.stop()
        bench.storm_cleanup()
        if "dataset" in result:
            peer_cleanup(db, built["max_mirrored"])
    result["seconds"] = round(time.monotonic() - started, 1)
    log(f"{size}: done in {result['seconds']}s")
    return result


# ---------------------------------------------------------------- report


def section(out: Path) -> tuple[list[str], list[str]]:
    runs = bench.companion_runs("peer_bench", out)
    if not runs:
        return [], []
    lines = [
        "",
        f"## Side by side: {runs[0]['peer']} (bench/peer_bench.py)",
        "",
        "The peer in a virtualenv of its own, a minimal project (PostgreSQL, DEBUG off, no "
        "mail), and a dataset mirrored from ours: the same users, services and doctors (staff "
        "members), working hours that give the doctors of the date asked the same slots, and "
        "one appointment per booking of ours (a cancelled or lapsed one in the history, so the "
        "date asked shows the same free slots on both sides, checked on both servers). Both "
        f"served by gunicorn with {runs[0]['workers']} sync workers on the same PostgreSQL, "
        "in interleaved rounds (ours, peer, ...); reads by wrk with one connection per "
        "worker, writes by as many keep-alive clients; medians of the rounds. Ours answers a "
        "date for every doctor of it in one request, the peer for one doctor: 'per doctor' "
        "counts doctors answered per second (p50 divided by the doctors one answer covers). "
        "A booking is one request on ours (`POST bookings {slotId}`, JWT) and two on the peer "
        "(`POST request-submit/`, then `POST client-info/<id>/<id_request>/`, with a "
        "logged-in session and its CSRF cookie).",
    ]
    misses: list[str] = []
    for run in runs:
        ds, routes = run["dataset"], run["routes"]
        n_ours = run["doctors_per_date_request"]["ours"]
        lines += [
            "",
            f"### {run['size']}: date {run['date']}, {ds['doctors_on_date']} doctors, "
            f"{ds['slots_on_date']} slots, free {ds['free_ours']} (ours) / {ds['free_peer']} "
            f"(peer); {ds['bookings_ours']:,} bookings / {ds['appointments_peer']:,} "
            "appointments",
            "",
            "| route | ours req/s | ours p50 ms | peer req/s | peer p50 ms | ours/peer |",
            "|---|---|---|---|---|---|",
        ]

        def row(label, a, b, per_a=1, per_b=1, unit="", routes=routes):
            ra, rb = routes[a]["rps"] * per_a, routes[b]["rps"] * per_b
            pa, pb = routes[a]["p50_us"] / per_a, routes[b]["p50_us"] / per_b
            return (
                f"| {label} | {ra:,.0f}{unit} | {pa / 1000:.2f} | {rb:,.0f}{unit} | "
                f"{pb / 1000:.2f} | {ra / rb:.1f}x |"
            )

        lines += [
            row("free slots for a date, per request (cached)", "ours_date", "peer_date"),
            row(
                f"free slots for a date, per doctor (cached; ours {n_ours} a request)",
                "ours_date",
                "peer_date",
                per_a=n_ours,
            ),
            row("free slots for a date, per request (no cache)", "ours_date_computed", "peer_date"),
            row(
                "free slots for a date, per doctor (no cache)",
                "ours_date_computed",
                "peer_date",
                per_a=n_ours,
            ),
            row(
                "one doctor's free slots (ours: the booking window; peer: the date)",
                "ours_doctor",
                "peer_doctor",
            ),
            row("one booking write (bookings/s; peer 2 requests)", "ours_write", "peer_write"),
        ]
        so, sp = run["storm"]["ours"], run["storm"]["peer"]
        after = ds["free_after"]
        lines += [
            "",
            f"- storm, {so['requests']} concurrent bookings of one seat: ours sold "
            f"**{so['sold']}** (statuses {so['statuses']}), the peer sold **{sp['sold']}** "
            f"(statuses {sp['statuses']}: it checks no seat when it books)",
            f"- errors: ours write {routes['ours_write']['errors']}, peer write "
            f"{routes['peer_write']['errors']}, reads "
            + ", ".join(f"{k} {v['errors']}" for k, v in routes.items() if "write" not in k)
            + f"; the date's free slots equal at start: {ds['free_equal']}, at the end: "
            f"{after['equal']} ({after['ours']} ours, {after['peer']} peer; a hold of ours that "
            "lapses during the run frees its seat on ours only); peer database "
            + (f"built in {ds['build_seconds']} s" if ds["build_seconds"] else "reused")
            + f", whole comparison {run['seconds']} s",
        ]
        if so["sold"] != 1:
            misses.append(f"{run['size']} peer comparison: ours sold {so['sold']} of 1 seat")
        if not ds["free_equal"]:
            misses.append(f"{run['size']} peer comparison: the date's free slots differ")
        if routes["ours_write"]["errors"] or any(
            v["errors"] for k, v in routes.items() if k.startswith("ours")
        ):
            misses.append(f"{run['size']} peer comparison: ours answered errors")
    return lines, misses


def main() -> None:
    bench.companion_main("peer_bench", measure)


if __name__ == "__main__":
    main()
