"""Load and scale benchmark: `make bench` (bench/run.sh) runs `python bench/bench.py run`.

For each dataset size it builds (or reuses) a PostgreSQL database with
bench/make_dataset.py, serves the app with gunicorn (cores + 1 sync
workers, DJANGO_DEBUG=0) and drives it from this second process over loopback
with wrk, a bounded number of requests per endpoint. It measures req/s, p50 and
p99 latency and each worker's peak RSS, compares every endpoint with the
framework floor (GET api/v1/bench/floor: plain Django, one indexed read on the
same server), checks worker memory for growth, runs a storm of concurrent
bookings over a few slots, and writes bench/RESULTS.md.

Sub-commands: `run` (everything), `measure` (one size, needs DATABASE_URL; run
by `run` in a child process), `report` (RESULTS.md from bench/out/*.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PY = sys.executable

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")

# Targets of the scheduling/bench issue; the benchmark reports them, no test asserts them.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
TARGET_ONE_READ_RATIO = 0.60
TARGET_OPTIONS_RATIO = 0.25
# slot/:email, a doctor's bookable slots (issue 16): half the floor, and flat with size.
TARGET_SLOT_RATIO = 0.50
TARGET_P99_OVER_P50 = 3.0
TARGET_P50_GROWTH = 1.3
TARGET_RSS_MIB = 150
TARGET_RSS_GROWTH_MIB = 1.0
# Requests per worker before the memory baseline: RSS rises by about 1-2 MiB over a
# worker's first few thousand requests and is level after (a single worker measured over
# 36,000 requests: +0.03 MiB after its 6,000th; bench/NOTES.md).
WARM_UP_REQUESTS = 6000

ENDPOINTS = [
    # key, label, kind (for the ratio target), requests
    ("floor", "floor: bare Django view, one indexed read", "floor", 4000),
    ("options", "appointmentOptions?date=", "options", 1000),
    ("options_computed", "appointmentOptions?date= (no cache)", "computed", 600),
    ("upcoming", "appointmentOptions (no date: the next 14 days)", "options", 1000),
    ("upcoming_computed", "appointmentOptions (no date, no cache)", "computed", 300),
    ("booking_doctor", "booking-doctor?email= (1,000 bookings, one page)", "page", 2000),
    ("bookings_email", "bookings?email=", "page", 2000),
    ("booking_id", "booking/:id", "object", 2000),
    ("users_doctor", "users?userType=Doctor (admin)", "page", 2000),
    ("doctors", "doctors (directory, first page, nextAvailable)", "page", 2000),
    ("doctors_filtered", "doctors?specialty=&q= (directory, filtered)", "page", 2000),
    ("doctor_id", "doctors/:id", "object", 2000),
    ("options_service", "appointmentOptions?service=&date=", "options", 1000),
    ("options_service_computed", "appointmentOptions?service=&date= (no cache)", "computed", 600),
    ("slot_email", "slot/:email (public, first page)", "slot", 2000),
    ("schedules", "schedules (the doctor's weekly hours)", "page", 2000),
    ("time_off", "time-off (the doctor's time off)", "page", 2000),
    ("waitlist", "waitlist (the patient's entries)", "page", 2000),
]
# BENCH_ENDPOINTS=doctors,options_service,...: only these (and the floor) in this run.
if os.environ.get("BENCH_ENDPOINTS"):
    _chosen = {"floor", *os.environ["BENCH_ENDPOINTS"].split(",")}
    ENDPOINTS = [row for row in ENDPOINTS if row[0] in _chosen]

# Asked of a second server without the availability cache (the same request as the key
# named): what each answer costs to compute, beside what the cache serves.
COMPUTED = {
    "options_computed": "options",
    "upcoming_computed": "upcoming",
    "options_service_computed": "options_service",
}


# Companion benchmarks, run in the same `run` after each size's endpoints: bench/<name>.py
# with `measure --size S` (same environment as the server, DATABASE_URL of that size's
# dataset) writes bench/out/<name>-<size>.json, and its `section(OUT)` returns
# (report lines, missed targets) for RESULTS.md. A missing module is left out.
COMPANIONS = [
    name
    for name in ("write_bench", "slot_bench", "mix_bench", "peer_bench")
    if (BENCH / f"{name}.py").exists()
]
if os.environ.get("BENCH_COMPANIONS") is not None:
    COMPANIONS = [n for n in os.environ["BENCH_COMPANIONS"].split(",") if n in COMPANIONS]


def companion_runs(name: str, out: Path = OUT) -> list[dict]:
    """A companion's results, bench/out/<name>-<size>.json, for the sizes it ran."""
    return [
        json.loads(path.read_text())
        for size in SIZES
        if (path := out / f"{name}-{size}.json").exists()
    ]


def companion_main(name: str, measure) -> None:
    """A companion's command line: `measure --size S` writes bench/out/<name>-<S>.json."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("measure")
    one.add_argument("--size", required=True)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    result = measure(args.size)
    (OUT / f"{name}-{args.size}.json").write_text(json.dumps(result, indent=1, default=str))


def companion_sections() -> tuple[list[str], list[str]]:
    import importlib

    sys.path.insert(0, str(BENCH))
    lines: list[str] = []
    misses: list[str] = []
    for name in COMPANIONS:
        section = getattr(importlib.import_module(name), "section", None)
        if section is not None:
            more, missed = section(OUT)
            lines += more
            misses += missed
    return lines, misses


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- environment


def server_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_TESTING="0",
        DJANGO_SECRET_KEY=env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_WEBHOOK_SECRET="whsec_bench",
        STRIPE_PUBLISHABLE_KEY="pk_test_bench",
        # The app's settings with the floor route (doctors_portal.settings_bench).
        DJANGO_SETTINGS_MODULE="doctors_portal.settings_bench",
        LOG_LEVEL="ERROR",
        REDIS_URL=REDIS_URL,
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
    env["BENCH_SECRET_KEY"] = env["DJANGO_SECRET_KEY"]
    return env


def psql(sql: str, db: str = "postgres") -> str:
    import psycopg

    with psycopg.connect(f"{PG_URL}/{db}", autocommit=True) as conn:
        cur = conn.execute(sql)
        try:
            return "\n".join("\t".join(str(v) for v in row) for row in cur.fetchall())
        except psycopg.ProgrammingError:
            return ""


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem_kib = int(line.split()[1])
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    pg = psql("SHOW server_version")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": pg.strip(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "",
    }


# ---------------------------------------------------------------- dataset


def build_dataset(size: str, *, rebuild: bool) -> dict:
    slots = SIZES[size]
    # BENCH_DB_PREFIX: engineers benchmarking side by side each build their own databases.
    db = f"{os.environ.get('BENCH_DB_PREFIX', 'dp_bench')}_{size}"
    url = f"{PG_URL}/{db}"
    env = server_env(url)
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'").strip() == "1"
    if exists and not rebuild:
        try:
            have = int(psql("SELECT count(*) FROM scheduling_slot", db=db) or 0)
        except Exception:
            have = 0
        if have >= slots * 0.9:
            log(f"{db}: reusing ({have:,} slots); BENCH_REBUILD=1 builds it again")
            subprocess.run(
                [PY, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
            )
            return {"db": db, "slots": have, "build_seconds": None}
    if exists:
        psql(f'DROP DATABASE "{db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{db}"')
    started = time.monotonic()
    subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    log(f"{db}: building about {slots:,} slots with bench/make_dataset.py")
    subprocess.run(
        [PY, "bench/make_dataset.py", "--slots", str(slots)], cwd=ROOT, env=env, check=True
    )
    psql("VACUUM ANALYZE", db=db)
    seconds = round(time.monotonic() - started, 1)
    have = int(psql("SELECT count(*) FROM scheduling_slot", db=db) or 0)
    log(f"{db}: built {have:,} slots in {seconds}s")
    return {"db": db, "slots": have, "build_seconds": seconds}


# ---------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    # python, app, cwd, health: another Django project's (bench/peer_bench.py's peer).
    def __init__(
        self,
        env: dict,
        workers: int,
        *,
        python: str = PY,
        app: str = "doctors_portal.wsgi:application",
        cwd: Path = ROOT,
        health: str = "/api/v1/health",
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = OUT / f"gunicorn-{self.port}.log"
        self.proc = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                app,
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--backlog",
                "2048",
                "--timeout",
                "60",
            ],
            cwd=cwd,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}{health}", timeout=5) as r:
                    if r.status == 200 and len(self.worker_pids()) >= workers:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        pids = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            pids += [int(p) for p in task.read_text().split()]
        return sorted(pids)

    def memory(self, field: str) -> dict[int, float]:
        """VmRSS (now) or VmHWM (peak) of each worker, MiB."""
        out = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(field + ":"):
                        out[pid] = int(line.split()[1]) / 1024
            except OSError:
                pass
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def wrk(base: str, path: str, auth: str, *, requests: int, connections: int) -> dict:
    """One endpoint: the mix script over a one-line request file."""
    lines_file = OUT / "one-request.txt"
    lines_file.write_text(f"{path}\t{auth or ''}\n")
    return wrk_mix(base, lines_file, requests=requests, connections=connections)


def wrk_mix(base: str, lines_file: Path, *, requests: int, connections: int) -> dict:
    cmd = ["wrk", "-t1", f"-c{connections}", "-d600s", "--timeout", "30s"]
    cmd += ["-s", str(BENCH / "wrk_mix.lua"), base, "--", str(lines_file), str(requests)]
    return _run_wrk(cmd)


def _run_wrk(cmd: list[str]) -> dict:
    """Run wrk until its script says the bounded number of requests is done, then SIGINT it."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("WRKDONE"):
            proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    stderr = proc.stderr.read()
    for line in lines:
        if line.startswith("WRKJSON "):
            result = json.loads(line[len("WRKJSON ") :])
            result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
            return result
    raise RuntimeError(f"wrk printed no summary:\n{''.join(lines)}\n{stderr}")


# ---------------------------------------------------------------- one size


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doctors_portal.settings")
    import django

    django.setup()


def token_for(user) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    return f"Bearer {RefreshToken.for_user(user).access_token}"


def discover() -> dict:
    """What to ask for: picked from the data, so any dataset builder will do."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from accounts.models import Role, User
    from bookings.models import Booking
    from scheduling.models import Service, Slot, SlotStatus

    now = timezone.now()
    clinic = ZoneInfo(settings.CLINIC_TIME_ZONE)
    busiest = (
        Slot.objects.filter(
            start__gt=now + timedelta(days=1),
            status=SlotStatus.PUBLISHED,
            doctor__doctor_profile__is_verified=True,
        )
        .annotate(day=TruncDate("start", tzinfo=clinic))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("-n", "day")
        .first()
    )
    doctor_row = (
        Booking.objects.values("doctor").annotate(n=Count("id")).order_by("-n", "doctor").first()
    )
    # make_dataset's hot patient has the same number of bookings at every size (so the page
    # asked for is the same); another builder's data gives the patient with the most.
    patients = Booking.objects.values("patient").annotate(n=Count("id"))
    patient_row = (
        patients.filter(patient__email="bench-patient-0@example.com").order_by("patient").first()
        or patients.order_by("-n", "patient").first()
    )
    doctor = User.objects.get(pk=doctor_row["doctor"])
    patient = User.objects.get(pk=patient_row["patient"])
    booking = Booking.objects.filter(patient=patient).order_by("-created_at", "-id").first()
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if admin is None:
        admin = User.objects.create_superuser("bench-admin@example.com", name="Bench Admin")
    service = Service.objects.order_by("id").first()
    # The directory's filter: the specialty of the most doctors, and a part of a name.
    specialty_row = (
        User.objects.filter(role=Role.DOCTOR, doctor_profile__specialty__isnull=False)
        .values("doctor_profile__specialty")
        .annotate(n=Count("id"))
        .order_by("-n", "doctor_profile__specialty")
        .first()
    )
    slot_doctor, slot_doctor_window, slot_doctor_future = slot_email_doctor(now)
    rules_doctor, rules, offs = schedules_doctor(doctor, now)
    waitlisted = waitlist_patient(patient, now)
    return {
        "slot_doctor": slot_doctor,
        "slot_doctor_window": slot_doctor_window,
        "slot_doctor_future": slot_doctor_future,
        "rules_doctor": rules_doctor,
        "rules": rules,
        "time_off": offs,
        "waitlisted": waitlisted,
        "date": busiest["day"].isoformat(),
        "date_slots": busiest["n"],
        "doctor": doctor,
        "doctor_bookings": doctor_row["n"],
        "patient": patient,
        "patient_bookings": patient_row["n"],
        "booking_id": booking.pk,
        "admin": admin,
        "service_id": service.pk,
        "specialty_id": specialty_row["doctor_profile__specialty"] if specialty_row else service.pk,
        "totals": {
            "slots": Slot.objects.count(),
            "bookings": Booking.objects.count(),
            "users": User.objects.count(),
            "doctors": User.objects.filter(role=Role.DOCTOR).count(),
        },
    }


def slot_email_doctor(now) -> tuple:
    """slot/:email's doctor: the one with the most free bookable slots in the upcoming
    window (what the first page holds), then the most future slots (what an unbounded
    answer would list); with how many of each."""
    from django.db.models import Count, F

    from accounts.models import User
    from scheduling.models import Slot, SlotStatus
    from scheduling.selectors import bookable_slots, upcoming_window

    start, end = upcoming_window(now=now)
    row = (
        bookable_slots(now=now)
        .filter(start__lt=end, seats_taken__lt=F("capacity"))
        .values("doctor")
        .annotate(n=Count("id"))
        .order_by("-n", "doctor")
        .first()
    )
    if row is None:
        raise RuntimeError("no doctor has a free bookable slot in the upcoming window")
    future = Slot.objects.filter(
        doctor=row["doctor"], status=SlotStatus.PUBLISHED, start__gt=start
    ).count()
    return User.objects.get(pk=row["doctor"]), row["n"], future


def schedules_doctor(doctor, now) -> tuple:
    """A doctor with weekly hours and time off, for GET schedules and GET time-off: one that
    has some, else `doctor` given a few (idempotent). Added rules ended yesterday and the
    time off lies after every slot of the dataset, so nothing is generated or withdrawn:
    the dataset's answers stay as the builder made them."""
    from datetime import time as clock
    from datetime import timedelta

    from accounts.models import User
    from scheduling import timefmt
    from scheduling.models import Service, TimeOff, WeeklyRule

    rule = WeeklyRule.objects.order_by("doctor_id", "id").first()
    if rule is not None:
        doctor = User.objects.get(pk=rule.doctor_id)
    else:
        today = timefmt.clinic_today(now)
        service = doctor.doctor_profile.specialty or Service.objects.order_by("id").first()
        WeeklyRule.objects.bulk_create(
            WeeklyRule(
                doctor=doctor,
                service=service,
                weekdays=weekdays,
                start_time=clock(hour),
                end_time=clock(hour + 4),
                slot_minutes=30,
                valid_from=today - timedelta(days=90),
                valid_until=today - timedelta(days=1),
                generated_until=today - timedelta(days=1),
            )
            for weekdays, hour in (("mon,wed,fri", 9), ("tue,thu", 13), ("sat", 8))
        )
    if not TimeOff.objects.filter(doctor=doctor, end__gt=now).exists():
        start = timefmt.day_bounds(timefmt.clinic_today(now) + timedelta(days=4000))[0]
        TimeOff.objects.bulk_create(
            TimeOff(
                doctor=doctor,
                start=start + timedelta(days=7 * i),
                end=start + timedelta(days=7 * i + 2),
                reason="bench",
            )
            for i in range(3)
        )
    rules = WeeklyRule.objects.filter(doctor=doctor).count()
    offs = TimeOff.objects.filter(doctor=doctor, end__gt=now).count()
    return doctor, rules, offs


def waitlist_patient(patient, now) -> int:
    """GET waitlist's patient: `patient`, in line for a few full future slots (added once,
    waiting: they hold no seat, so no other answer changes)."""
    from django.db.models import F

    from bookings.models import WAITLIST_OPEN_STATUSES, WaitlistEntry
    from scheduling import timefmt
    from scheduling.models import Slot, SlotStatus

    open_entries = WaitlistEntry.objects.filter(patient=patient, status__in=WAITLIST_OPEN_STATUSES)
    if not open_entries.exists():
        full = (
            Slot.objects.filter(
                status=SlotStatus.PUBLISHED, start__gt=now, seats_taken__gte=F("capacity")
            )
            .exclude(bookings__patient=patient)
            .order_by("start", "id")[:5]
        )
        WaitlistEntry.objects.bulk_create(
            WaitlistEntry(
                patient=patient,
                slot=slot,
                doctor_id=slot.doctor_id,
                day=timefmt.clinic_today(slot.start),
                created_at=now,
            )
            for slot in full
        )
    return open_entries.count()


def requests_for(d: dict) -> dict[str, tuple[str, str]]:
    """endpoint key -> (path, Authorization header or "")."""
    from urllib.parse import quote

    return {
        "floor": (f"/api/v1/bench/floor?id={d['service_id']}", ""),
        "options": (f"/api/v1/appointmentOptions?date={d['date']}", ""),
        "upcoming": ("/api/v1/appointmentOptions", ""),
        "booking_doctor": (
            f"/api/v1/booking-doctor?email={quote(d['doctor'].email)}",
            token_for(d["doctor"]),
        ),
        "bookings_email": (
            f"/api/v1/bookings?email={quote(d['patient'].email)}",
            token_for(d["patient"]),
        ),
        "booking_id": (f"/api/v1/booking/{d['booking_id']}", token_for(d["patient"])),
        "users_doctor": ("/api/v1/users?userType=Doctor", token_for(d["admin"])),
        "doctors": ("/api/v1/doctors", ""),
        "doctors_filtered": (f"/api/v1/doctors?specialty={d['specialty_id']}&q=1", ""),
        "doctor_id": (f"/api/v1/doctors/{d['doctor'].pk}", ""),
        "slot_email": (f"/api/v1/slot/{quote(d['slot_doctor'].email)}", ""),
        "schedules": ("/api/v1/schedules", token_for(d["rules_doctor"])),
        "time_off": ("/api/v1/time-off", token_for(d["rules_doctor"])),
        "waitlist": ("/api/v1/waitlist", token_for(d["patient"])),
        "options_service": (
            f"/api/v1/appointmentOptions?date={d['date']}&service={d['specialty_id']}",
            "",
        ),
    }


def fetch(base: str, path: str, auth: str, *, method="GET", body=None) -> tuple[int, bytes]:
    req = urllib.request.Request(base + path, method=method, data=body)
    if auth:
        req.add_header("Authorization", auth)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def storm(base: str, *, requests: int = 500, slots: int = 50) -> dict:
    """`requests` patients book at once over `slots` new slots; exactly capacity must sell."""
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.utils import timezone

    from accounts.models import DoctorProfile, Role, User
    from bookings.models import SEAT_HOLDING_STATUSES
    from scheduling.models import Service, Slot

    tag = secrets.token_hex(4)
    service = Service.objects.order_by("id").first()
    doctor = User.objects.create_user(
        f"storm-doctor-{tag}@example.com", name="Storm Doctor", role=Role.DOCTOR
    )
    DoctorProfile.objects.create(
        user=doctor, specialty=service, is_verified=True, verified_at=timezone.now()
    )
    # Within PUBLISH_HORIZON_DAYS: appointmentOptions answers 400 for a date beyond it.
    start = (timezone.now() + timedelta(days=300)).replace(minute=0, second=0, microsecond=0)
    new_slots = Slot.objects.bulk_create(
        Slot(
            doctor=doctor,
            service=service,
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=45),
            capacity=1 + i % 3,
        )
        for i in range(slots)
    )
    capacity = sum(s.capacity for s in new_slots)
    # Published as the slot services publish: their days' cached answers end (bulk_create
    # announces nothing by itself).
    from scheduling.availability_cache import availability_changed

    availability_changed(slots=new_slots)
    # What appointmentOptions shows of these slots, asked of the server (its workers share
    # the availability cache): every seat before the storm, none after it.
    from scheduling import timefmt

    slot_ids = {s.pk for s in new_slots}
    days = sorted({timefmt.clinic_today(s.start) for s in new_slots})

    def seats_shown() -> int:
        shown = 0
        for day in days:
            status, raw = fetch(base, f"/api/v1/appointmentOptions?date={day.isoformat()}", "")
            if status != 200:
                return -1
            for item in json.loads(raw)["data"]:
                shown += sum(x["available"] for x in item["slots"] if x["id"] in slot_ids)
        return shown

    shown_before = seats_shown()
    patients = User.objects.bulk_create(
        User(email=f"storm-{tag}-{i}@example.com", name=f"Storm {i}", role=Role.PATIENT)
        for i in range(requests)
    )
    bodies = [
        (token_for(p), json.dumps({"slotId": new_slots[i % slots].pk}).encode())
        for i, p in enumerate(patients)
    ]
    statuses: list[int] = [0] * requests
    barrier = threading.Barrier(requests)

    def one(i: int) -> None:
        auth, body = bodies[i]
        barrier.wait()
        try:
            statuses[i], _ = fetch(base, "/api/v1/bookings", auth, method="POST", body=body)
        except Exception:
            statuses[i] = -1

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    counts: dict[str, int] = {}
    for code in statuses:
        counts[str(code)] = counts.get(str(code), 0) + 1
    rows = Slot.objects.filter(pk__in=[s.pk for s in new_slots]).annotate(
        active=Count("bookings", filter=Q(bookings__status__in=SEAT_HOLDING_STATUSES))
    )
    over = [s.pk for s in rows if s.active > s.capacity or s.seats_taken != s.active]
    sold = sum(s.active for s in rows)
    # Several reads, so several workers answer: each must show the seats as taken.
    shown_after = max(seats_shown() for _ in range(6))
    return {
        "requests": requests,
        "slots": slots,
        "capacity": capacity,
        "sold": sold,
        "created": counts.get("201", 0),
        "statuses": counts,
        "server_errors": sum(n for code, n in counts.items() if int(code) >= 500 or code == "-1"),
        "inconsistent_slots": over,
        "seconds": round(seconds, 2),
        "seats_shown_before": shown_before,
        "seats_shown_after": shown_after,
        "ok": sold == capacity
        and shown_before == capacity
        and shown_after == capacity - sold
        and counts.get("201", 0) == capacity
        and not over
        and not any(int(c) >= 500 or c == "-1" for c in counts),
    }


def storm_cleanup() -> int:
    """Remove what storms left (their doctor, slots, bookings, patients): the datasets are
    reused between runs and must stay as the builder made them."""
    return users_remove(email_prefix="storm-", email_domain="example.com")


def users_remove(*, email_prefix: str, email_domain: str) -> int:
    """Remove the users a benchmark made (emails `<prefix>...@<domain>`) and what they
    have: slots, bookings (their outbox rows and audit entries), waitlist entries, tokens."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.db.models import Q

    from accounts.models import DoctorProfile, User
    from bookings.models import Booking, WaitlistEntry
    from scheduling.availability_cache import availability_changed
    from scheduling.models import Slot

    try:
        from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    except ImportError:  # the blacklist app is optional
        OutstandingToken = None
    users = User.objects.filter(email__startswith=email_prefix, email__endswith=f"@{email_domain}")
    with transaction.atomic():
        bookings = Booking.objects.filter(Q(slot__doctor__in=users) | Q(patient__in=users))
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Booking),
            object_pk__in=[str(pk) for pk in bookings.values_list("pk", flat=True)],
        ).delete()
        LogEntry.objects.filter(actor__in=users).delete()
        WaitlistEntry.objects.filter(patient__in=users).delete()
        bookings.delete()
        slots = Slot.objects.filter(doctor__in=users)
        # A bulk delete announces nothing: the days' cached availability must end as if
        # the slots' own services had removed them.
        availability_changed(slots=list(slots.only("start")))
        slots.delete()
        DoctorProfile.objects.filter(user__in=users).delete()
        if OutstandingToken is not None:
            OutstandingToken.objects.filter(user__in=users).delete()
        removed, _ = users.delete()
    return removed


def measure(size: str, workers: int, scale: float, profile: str | None) -> dict:
    setup_django()
    from django.db import connection

    if removed := storm_cleanup():
        log(f"{size}: removed {removed} rows a previous storm left")
    # The benchmark's own Redis database: throttle counters and cached answers of an earlier
    # run (perhaps of a rebuilt dataset under the same name) must not carry over.
    from django.core.cache import caches

    for alias in ("default", "availability"):
        caches[alias].clear()
    d = discover()
    log(
        f"{size}: {d['totals']}; date {d['date']} has {d['date_slots']} slots; doctor has "
        f"{d['doctor_bookings']} bookings; patient has {d['patient_bookings']}; slot/:email "
        f"doctor has {d['slot_doctor_window']} free slots in the window, "
        f"{d['slot_doctor_future']} future"
    )
    connection.close()
    server = Server(dict(os.environ), workers)
    computing = None
    results: dict = {"size": size, "workers": workers, "dataset": d["totals"], "endpoints": {}}
    results["picked"] = {
        "date": d["date"],
        "date_slots": d["date_slots"],
        "doctor_bookings": d["doctor_bookings"],
        "patient_bookings": d["patient_bookings"],
        "slot_doctor_window": d["slot_doctor_window"],
        "slot_doctor_future": d["slot_doctor_future"],
        "rules": d["rules"],
        "time_off": d["time_off"],
        "waitlisted": d["waitlisted"],
    }
    try:
        # Without REDIS_URL the availability cache is a dummy (settings); nothing else these
        # reads do touches a cache.
        computing = Server({**os.environ, "REDIS_URL": ""}, workers)
        reqs = requests_for(d)
        reqs.update({key: reqs[same] for key, same in COMPUTED.items()})
        reqs = {key: reqs[key] for key, *_ in ENDPOINTS}
        mix_reqs = {key: value for key, value in reqs.items() if key not in COMPUTED}
        bases = {key: computing.base if key in COMPUTED else server.base for key in reqs}
        for key, (path, auth) in reqs.items():
            status, body = fetch(bases[key], path, auth)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
            results["endpoints"].setdefault(key, {})["bytes"] = len(body)
        # Memory, per worker (the sync workers take turns accepting, so N x workers requests
        # are about N each): RSS after each worker's first 1,000 requests of the mix (every
        # endpoint in turn); after its warm-up (WARM_UP_REQUESTS of the mix, then 1,000 of
        # every endpoint alone: caches, prepared statements and the allocator settle, and
        # RSS levels off); after each measured round; and after its last 1,000 of the mix.
        # Growth after the warm-up is the leak test; the warm-up's own growth is reported.
        mix = OUT / f"mix-{size}.txt"
        mix.write_text("".join(f"{p}\t{a}\n" for p, a in mix_reqs.values()))
        per_worker = 1000 * workers
        served = wrk_mix(server.base, mix, requests=per_worker, connections=workers)["requests"]
        rss_start = server.memory("VmRSS")
        warm_up = (WARM_UP_REQUESTS - 1000) * workers
        served += wrk_mix(server.base, mix, requests=warm_up, connections=workers)["requests"]
        for key, _label, _kind, _count in ENDPOINTS:
            # 1,000 in a row for each worker: a long run of the large answers raises the
            # allocator's high-water mark once more, which the mix alone does not reach.
            path, auth = reqs[key]
            done = wrk(bases[key], path, auth, requests=per_worker, connections=workers)
            served += 0 if key in COMPUTED else done["requests"]
        rss_first = server.memory("VmRSS")
        results["rss_start_mib"] = rss_start
        results["rss_warm_up_growth_mib"] = round(
            max((rss_first.get(pid, 0) - rss_start.get(pid, 0) for pid in rss_start), default=0),
            1,
        )
        results["rss_first_mib"] = rss_first
        series = [round(max(rss_start.values()), 1), round(max(rss_first.values()), 1)]
        # ROUNDS rounds, each running every endpoint in turn: a slow spell of the shared
        # machine hits every endpoint of a round alike; the figures are the medians.
        rounds: dict[str, list[dict]] = {key: [] for key, *_ in ENDPOINTS}
        for round_no in range(ROUNDS):
            for key, _label, _kind, count in ENDPOINTS:
                path, auth = reqs[key]
                n = max(100, int(count * scale / ROUNDS))
                result = wrk(bases[key], path, auth, requests=n, connections=workers)
                rounds[key].append(result)
                served += 0 if key in COMPUTED else result["requests"]
                log(
                    f"{size} round {round_no + 1} {key}: {result['rps']} req/s, "
                    f"p50 {result['p50_us'] / 1000:.1f} ms, p99 {result['p99_us'] / 1000:.1f} ms, "
                    f"errors {result['status_errors']}"
                )
            series.append(round(max(server.memory("VmRSS").values()), 1))
        for key, runs in rounds.items():
            merged = {
                name: statistics.median(r[name] for r in runs)
                for name in ("rps", "p50_us", "p90_us", "p99_us", "mean_us")
            }
            merged["max_us"] = max(r["max_us"] for r in runs)
            for name in ("requests", "status_errors", "connect_errors", "read_errors"):
                merged[name] = sum(r[name] for r in runs)
            merged["floor_ratio_per_round"] = [
                round(r["rps"] / f["rps"], 3) for r, f in zip(runs, rounds["floor"], strict=True)
            ]
            results["endpoints"][key].update(merged)
        served += wrk_mix(server.base, mix, requests=per_worker, connections=workers)["requests"]
        # Memory: RSS after each worker's last 1,000 requests against after its first 1,000.
        results["rss_last_mib"] = rss_last = server.memory("VmRSS")
        series.append(round(max(rss_last.values()), 1))
        results["rss_series_mib"] = series
        results["rss_growth_mib"] = round(
            max((rss_last.get(pid, 0) - rss_first.get(pid, 0) for pid in rss_first), default=0), 1
        )
        results["requests_served"] = served
        results["storm"] = storm(server.base)
        log(f"{size} storm: {results['storm']}")
        storm_cleanup()
        results["peak_rss_mib"] = max(server.memory("VmHWM").values())
    finally:
        server.stop()
        if computing is not None:
            computing.stop()
    if profile:
        results["profile"] = profile_endpoint(profile, reqs[profile])
    return results


def profile_endpoint(key: str, request: tuple[str, str]) -> str:
    """pyinstrument over 200 calls of one endpoint in-process (same settings, same data)."""
    from django.test import Client
    from pyinstrument import Profiler

    path, auth = request
    # A host the server's settings allow (the test client's "testserver" is a 400 there).
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    for _ in range(20):
        client.get(path, **headers)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(200):
        client.get(path, **headers)
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    (OUT / f"profile-{key}.txt").write_text(text)
    return str(OUT / f"profile-{key}.txt")


# ---------------------------------------------------------------- report


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def schedules_section() -> list[str]:
    """Weekly hours generated for a year (bench/schedule_bench.py), if it ran."""
    path = OUT / "schedules.json"
    if not path.exists():
        return []
    r = json.loads(path.read_text())
    return [
        "",
        f"## Weekly hours: a year for {r['doctors']} doctors ({r['slots']:,} slots)",
        "",
        "One run of the periodic task with BOOKING_HORIZON_DAYS="
        f"{r['horizon_days']} (bench/schedule_bench.py); 'bare insert' writes the same rows "
        f"with a plain bulk_create per doctor ({r['bare_insert_doctors']} doctors), the floor "
        "of the write itself; the floor read is one indexed read in process.",
        "",
        "| what | time | statements | per doctor | x floor read | x bare insert |",
        "|---|---|---|---|---|---|",
        f"| first run (all generated) | {r['first_run_s']} s | {r['first_run_statements']} | "
        f"{r['per_doctor_ms']} ms | {r['x_floor_per_doctor']} | {r['x_bare_insert']} |",
        f"| second run (nothing to do) | {r['second_run_s']} s | "
        f"{r['second_run_statements']} | | | |",
        f"| bare insert | {r['bare_insert_s']} s | {r['bare_insert_statements']} | "
        f"{r['bare_per_doctor_ms']} ms | | 1.0 |",
        f"| floor read | {r['floor_ms']} ms | 1 | | 1.0 | |",
    ]


def resched_section() -> list[str]:
    """Reschedule and waitlist-offer latency (bench/resched_bench.py), if it ran."""
    path = OUT / "resched.json"
    if not path.exists():
        return []
    sys.path.insert(0, str(BENCH))
    import resched_bench

    return [
        "",
        "## Reschedule and waitlist offer (bench/resched_bench.py, in process)",
        "",
        "On a fresh database of its own; each round's set-up outside the timing; the floor is "
        "one indexed read (a Service by pk) in the same process.",
        "",
        *resched_bench.table(json.loads(path.read_text())),
    ]


def report(command: str) -> str:
    runs = []
    for size in SIZES:
        path = OUT / f"{size}.json"
        if path.exists():
            runs.append(json.loads(path.read_text()))
    if not runs:
        raise SystemExit("no results in bench/out; run `make bench` first")
    meta = json.loads((OUT / "machine.json").read_text()) if (OUT / "machine.json").exists() else {}
    lines = ["# Benchmark results", ""]
    lines += [
        "Produced by `make bench` (bench/run.sh -> bench/bench.py). Not part of `make test`;",
        "the targets below are checked here, never asserted by a timed test.",
        "",
        "Repeat with:",
        "",
        "```",
        command,
        "```",
        "",
        "## Machine",
        "",
    ]
    for k, v in meta.get("machine", {}).items():
        lines.append(f"- {k}: {v}")
    lines += [
        f"- server: gunicorn, {runs[0]['workers']} sync workers, DJANGO_DEBUG=0, "
        "PostgreSQL and Redis (throttles, cache) on the same host; the '(no cache)' rows "
        "are asked of a second such server without REDIS_URL (availability cache off)",
        "- load: wrk, 1 thread, one connection per worker, a bounded number of requests per "
        f"endpoint after a warm-up (each worker's first {WARM_UP_REQUESTS:,} requests of the "
        f"mix, then 1,000 of each endpoint alone), split over {ROUNDS} rounds that each run "
        "every "
        "endpoint in turn; req/s, p50 and p99 are medians over the rounds and 'x floor' the "
        "median of each round's ratio to that round's floor; all on loopback",
        "",
        "## Datasets",
        "",
        "| size | slots | bookings | users | doctors | build | date asked | slots that date "
        "| doctor's bookings | slot/:email doctor: free in window / future |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    builds = meta.get("builds", {})
    for run in runs:
        t = run["dataset"]
        b = builds.get(run["size"], {})
        took = f"{b['build_seconds']} s" if b.get("build_seconds") else "reused"
        p = run["picked"]
        lines.append(
            f"| {run['size']} | {t['slots']:,} | {t['bookings']:,} | {t['users']:,} | "
            f"{t['doctors']:,} | {took} | {p['date']} | {p['date_slots']} | "
            f"{p['doctor_bookings']:,} | {p.get('slot_doctor_window', '')} / "
            f"{p.get('slot_doctor_future', '')} |"
        )
    lines += schedules_section()
    lines += resched_section()
    labels = {key: label for key, label, _k, _n in ENDPOINTS}
    kinds = {key: kind for key, _l, kind, _n in ENDPOINTS}
    misses = []
    for run in runs:
        floor = run["endpoints"]["floor"]["rps"]
        lines += [
            "",
            f"## {run['size']} ({run['dataset']['slots']:,} slots)",
            "",
            "| endpoint | requests | req/s | x floor | p50 ms | p99 ms | p99/p50 | "
            "non-2xx | bytes |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for key, result in run["endpoints"].items():
            per_round = result.get("floor_ratio_per_round")
            ratio = statistics.median(per_round) if per_round else result["rps"] / floor
            tail = result["p99_us"] / max(result["p50_us"], 1)
            lines.append(
                f"| {labels[key]} | {result['requests']} | {result['rps']:.0f} | {ratio:.2f} | "
                f"{ms(result['p50_us'])} | {ms(result['p99_us'])} | {tail:.1f} | "
                f"{result['status_errors']} | {result['bytes']:,} |"
            )
            if kinds[key] in ("object", "page") and ratio < TARGET_ONE_READ_RATIO:
                misses.append(f"{run['size']} {labels[key]}: {ratio:.2f} x floor < 0.60")
            if kinds[key] == "slot" and ratio < TARGET_SLOT_RATIO:
                misses.append(f"{run['size']} {labels[key]}: {ratio:.2f} x floor < 0.50")
            if kinds[key] == "options" and ratio < TARGET_OPTIONS_RATIO:
                misses.append(f"{run['size']} {labels[key]}: {ratio:.2f} x floor < 0.25")
            if tail > TARGET_P99_OVER_P50:
                misses.append(f"{run['size']} {labels[key]}: p99 = {tail:.1f} x p50 > 3")
        s = run["storm"]
        lines += [
            "",
            f"- peak RSS per worker: {run['peak_rss_mib']:.0f} MiB; warm-up growth (each "
            f"worker's first {WARM_UP_REQUESTS:,} requests of the mix, then 1,000 of each "
            "endpoint): "
            f"{run.get('rss_warm_up_growth_mib', 0):+.1f} MiB; growth after it, to each "
            f"worker's last 1,000 requests ({run.get('requests_served', 0):,} in all): "
            f"{run['rss_growth_mib']:+.1f} MiB (largest of {len(run['rss_first_mib'])} "
            f"workers); largest worker's RSS along the run: "
            f"{', '.join(f'{v:.0f}' for v in run.get('rss_series_mib', []))} MiB",
            f"- booking storm: {s['requests']} concurrent POST bookings over {s['slots']} slots "
            f"of total capacity {s['capacity']}: {s['created']} created, sold {s['sold']}, "
            f"statuses {s['statuses']}, {s['server_errors']} server errors, "
            f"{len(s['inconsistent_slots'])} inconsistent slots, {s['seconds']} s"
            + (
                "; appointmentOptions (cached, asked of several workers) showed "
                f"{s['seats_shown_before']} free seats on them before and "
                f"{s['seats_shown_after']} after"
                if "seats_shown_after" in s
                else ""
            )
            + f" -> {'OK' if s['ok'] else 'FAILED'}",
        ]
        if run["peak_rss_mib"] > TARGET_RSS_MIB:
            misses.append(f"{run['size']}: peak RSS {run['peak_rss_mib']:.0f} MiB > 150")
        if run["rss_growth_mib"] > TARGET_RSS_GROWTH_MIB:
            misses.append(f"{run['size']}: RSS grew {run['rss_growth_mib']:.1f} MiB")
        if not s["ok"]:
            misses.append(f"{run['size']}: booking storm failed")
    if len(runs) > 1:
        first, last = runs[0], runs[-1]
        lines += [
            "",
            f"## Growth from {first['size']} to {last['size']}",
            "",
            "| endpoint | " + " | ".join(f"p50 ms {r['size']}" for r in runs) + " | "
            "p50 largest/smallest | " + " | ".join(f"x floor {r['size']}" for r in runs) + " |",
            "|---|" + "---|" * (2 * len(runs) + 1),
        ]
        for key in first["endpoints"]:
            p50s = [r["endpoints"][key]["p50_us"] for r in runs]
            ratios = [
                statistics.median(r["endpoints"][key]["floor_ratio_per_round"])
                if r["endpoints"][key].get("floor_ratio_per_round")
                else r["endpoints"][key]["rps"] / r["endpoints"]["floor"]["rps"]
                for r in runs
            ]
            growth = p50s[-1] / max(p50s[0], 1)
            lines.append(
                f"| {labels[key]} | "
                + " | ".join(ms(p) for p in p50s)
                + f" | {growth:.2f} | "
                + " | ".join(f"{r:.2f}" for r in ratios)
                + " |"
            )
            if growth > TARGET_P50_GROWTH:
                misses.append(f"{labels[key]}: p50 grew {growth:.2f} x from smallest to largest")
    extra_lines, extra_misses = companion_sections()
    lines += extra_lines
    misses += extra_misses
    lines += ["", "## Targets", ""]
    if misses:
        lines += ["Missed in this run:", ""] + [f"- {m}" for m in misses]
    else:
        lines.append("Every target was met in this run.")
    notes = OUT.parent / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    text = "\n".join(lines) + "\n"
    # A run of some endpoints only (BENCH_ENDPOINTS) must not replace the recorded full run.
    partial = os.environ.get("BENCH_ENDPOINTS")
    (OUT if partial else BENCH).joinpath("RESULTS.md").write_text(text)
    return text


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", ",".join(SIZES)))
    # cores + 1: PostgreSQL, Redis and wrk share these cores; 2 x cores + 1 only queued
    # more processes on them (lower req/s and longer tails for every endpoint, floor too).
    run.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    run.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    run.add_argument("--profile", default=os.environ.get("BENCH_PROFILE") or None)
    rebuild = bool(os.environ.get("BENCH_REBUILD"))
    run.add_argument("--rebuild", action="store_true", default=rebuild)
    one = sub.add_parser("measure")
    one.add_argument("--size", required=True)
    one.add_argument("--workers", type=int, required=True)
    one.add_argument("--scale", type=float, default=1.0)
    one.add_argument("--profile", default=None)
    sub.add_parser("report")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    command = "make bench   # or: .venv/bin/python bench/bench.py run --sizes 10k,100k,1m"

    if args.command == "measure":
        result = measure(args.size, args.workers, args.scale, args.profile)
        (OUT / f"{args.size}.json").write_text(json.dumps(result, indent=1, default=str))
        return
    if args.command == "report":
        print(report(command))
        return

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package `wrk`)")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for stale in OUT.glob("*.json"):
        stale.unlink()  # schedules.json too: written again below
    meta = {"machine": machine(), "builds": {}}
    # The servers run with DJANGO_DEBUG=0, whose static storage needs the manifest that
    # collectstatic writes (`make run` writes it too; a fresh clone has none).
    subprocess.run(
        [PY, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=server_env(f"{PG_URL}/postgres"),
        check=True,
    )
    for size in sizes:
        build = build_dataset(size, rebuild=args.rebuild)
        meta["builds"][size] = build
        (OUT / "machine.json").write_text(json.dumps(meta, indent=1))
        env = server_env(f"{PG_URL}/{build['db']}")
        cmd = [PY, str(BENCH / "bench.py"), "measure", "--size", size]
        cmd += ["--workers", str(args.workers), "--scale", str(args.scale)]
        if args.profile:
            cmd += ["--profile", args.profile]
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        for name in COMPANIONS:
            log(f"{size}: bench/{name}.py")
            subprocess.run(
                [PY, str(BENCH / f"{name}.py"), "measure", "--size", size],
                cwd=ROOT,
                env=env,
                check=True,
            )
    if os.environ.get("BENCH_EXTRAS") == "0":
        print(report(f".venv/bin/python bench/bench.py run --sizes {','.join(sizes)}"))
        return
    # Weekly hours: a year for 100 doctors, on a database of its own (bench/schedule_bench.py).
    prefix = os.environ.get("BENCH_DB_PREFIX", "dp_bench")
    log("weekly hours: a year for 100 doctors (bench/schedule_bench.py)")
    subprocess.run(
        [PY, str(BENCH / "schedule_bench.py")],
        cwd=ROOT,
        env=server_env(f"{PG_URL}/{prefix}_schedules"),
        check=True,
    )
    # Reschedule and waitlist offer, in process, on a fresh database of its own; the outbox
    # hands over to the benchmark's Redis (no worker: measure() clears that db each size).
    log("reschedule and waitlist offer (bench/resched_bench.py)")
    resched_db = f"{prefix}_resched"
    psql(f'DROP DATABASE IF EXISTS "{resched_db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{resched_db}"')
    rounds = max(20, int(200 * args.scale))
    subprocess.run(
        [PY, str(BENCH / "resched_bench.py")],
        cwd=ROOT,
        # Its own settings (DEBUG, as when run alone: its API call goes through the test
        # client), not the server's.
        env={
            **os.environ,
            "DATABASE_URL": f"{PG_URL}/{resched_db}",
            "CELERY_BROKER_URL": REDIS_URL,
            "BENCH_RESCHED_ROUNDS": str(rounds),
            "LOG_LEVEL": "ERROR",
        },
        check=True,
    )
    if sizes != list(SIZES):
        command = f".venv/bin/python bench/bench.py run --sizes {','.join(sizes)}"
    print(report(command))


if __name__ == "__main__":
    main()
