"""The demo's fake Stripe stays out of the runtime: an extra to install, one module to read."""

import ast
import tomllib
from pathlib import Path

import pytest

from payments import stand_in, stripe_gateway

pytestmark = pytest.mark.django_db  # the cache the suite clears between tests is a table

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "scheduling", "bookings", "payments", "doctors_portal")


def _requirement_names(requirements: list[str]) -> set[str]:
    return {r.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip() for r in requirements}


def test_localstripe_is_a_demo_and_test_extra_never_a_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert "localstripe" not in _requirement_names(project["dependencies"])
    assert "localstripe" in _requirement_names(extras["demo"])
    assert "localstripe" in _requirement_names(extras["test"])


def _app_modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_only_the_gateway_and_the_stand_in_module_know_the_stand_in():
    """Who reads STRIPE_API_BASE or confirms on the server for the stand-in Stripe.js."""
    readers = set()
    for path in _app_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                {node.attr}
                if isinstance(node, ast.Attribute)
                else {node.value}
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
                else set()
            )
            if names & {"STRIPE_API_BASE", "confirm_payment_intent", "stand_in_card"}:
                readers.add(str(path.relative_to(ROOT)))
    assert readers == {
        "doctors_portal/settings.py",
        "payments/stripe_gateway.py",
        "payments/stand_in.py",
        # The demo's own command starts localstripe and points the app at it.
        "payments/management/commands/serve_demo.py",
    }


def test_without_the_stand_in_nothing_is_confirmed_on_the_server(settings, monkeypatch):
    settings.STRIPE_API_BASE = ""  # real Stripe: the browser confirms, never the server

    def refuse(**_):
        pytest.fail("confirmed on the server without the stand-in")

    monkeypatch.setattr(stripe_gateway, "confirm_payment_intent", refuse)

    stand_in.confirm_card(payment=None, card_id="card_from_a_forged_form")

    assert stand_in.pay_page_context() == {"confirm_on_server": False}
