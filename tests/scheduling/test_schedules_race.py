"""Two generations of the same weekly rule at once, with real threads and one database
connection each: every slot exists exactly once (issue 14)."""

import threading
from datetime import time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from scheduling import schedules, timefmt
from scheduling.models import Slot, SlotStatus, WeeklyRule
from tests.factories import DoctorFactory, ServiceFactory

WEEK = "mon,tue,wed,thu,fri,sat,sun"


def _rule():
    service = ServiceFactory(name="Race Check-up")
    doctor = DoctorFactory(profile__specialty=service)
    return WeeklyRule.objects.create(
        doctor=doctor,
        service=service,
        weekdays=WEEK,
        start_time=time(9),
        end_time=time(17),
        slot_minutes=20,
        capacity=1,
        valid_from=timefmt.clinic_today(timezone.now()) + timedelta(days=1),
    )


def _at_once(calls: int, target) -> tuple[list, list]:
    barrier = threading.Barrier(calls)
    results, failures = [], []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            value = target()
            with lock:
                results.append(value)
        except Exception as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, failures


def _assert_each_slot_once(rule):
    slots = Slot.objects.filter(doctor=rule.doctor).exclude(status=SlotStatus.CANCELLED)
    starts = list(slots.values_list("start", flat=True))
    assert len(starts) == len(set(starts)) > 0
    expected = len(
        list(
            schedules.recurrence.occurrences(
                schedules.recurrence.pattern_of(rule),
                rule.valid_from,
                timefmt.clinic_today(timezone.now()) + timedelta(days=14),
            )
        )
    )
    assert len(starts) == expected
    return len(starts)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_generations_make_each_slot_once(settings):
    settings.BOOKING_HORIZON_DAYS = 14
    rule = _rule()
    results, failures = _at_once(2, lambda: schedules.schedule_generate(rule_id=rule.pk))
    assert failures == []
    count = _assert_each_slot_once(rule)
    assert sorted(results) == [0, count]  # one made them all, the other found them made
    print(f"{connection.vendor}: {count} slots, generations returned {sorted(results)}")


@pytest.mark.postgresql_only  # the exclusion constraint is PostgreSQL's
@pytest.mark.django_db(transaction=True)
def test_without_the_locks_the_database_still_refuses_a_second_copy(settings, monkeypatch):
    settings.BOOKING_HORIZON_DAYS = 14
    rule = _rule()
    # A writer that forgot the doctor's lock: only the exclusion constraint stands.
    monkeypatch.setattr(schedules, "_lock_doctor", lambda doctor: None)
    _results, failures = _at_once(4, lambda: schedules.schedules_extend())
    assert failures == []
    _assert_each_slot_once(rule)
