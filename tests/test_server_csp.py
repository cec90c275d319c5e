"""Content-Security-Policy (django-csp) on every page, the admin and the Swagger UI, with no
'unsafe-inline' for scripts; Swagger UI served by us from drf-spectacular-sidecar. The
browser half (the policy as Chromium enforces it, the docs offline) is tests/e2e/test_csp.py."""

import re
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent
PAGES = ["/", "/login/", "/signup/", "/admin/login/", "/api/v1/docs/"]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_a_policy_without_inline_scripts(path):
    response = Client().get(path)
    assert response.status_code == 200
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert "'self'" in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]


def test_the_admin_index_carries_the_policy(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "'unsafe-inline'" not in policy(response)["script-src"]


def test_no_template_has_an_inline_script_or_event_handler():
    """A script in a template is a file (src=) or carries the request's nonce."""
    offenders = []
    for template in (BASE_DIR / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text, re.IGNORECASE):
            if "src=" not in tag and "nonce=" not in tag:
                offenders.append(f"{template.name}: {tag}")
        for handler in re.findall(r"\son[a-z]+\s*=", text, re.IGNORECASE):
            offenders.append(f"{template.name}: {handler.strip()}")
    assert offenders == []


def test_the_policy_admits_the_stripe_js_and_api_it_is_pointed_at(settings):
    # The demo and the browser tests load localstripe's stand-in Stripe.js from loopback.
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    settings.STRIPE_JS_URL = "http://127.0.0.1:8420/js.stripe.com/v3/"
    csp = policy(Client().get("/login/"))
    assert "http://127.0.0.1:8420" in csp["script-src"]
    assert "http://127.0.0.1:8420" in csp["connect-src"]
    # Stripe's own origins stay for the real Stripe.js.
    assert "https://js.stripe.com" in csp["script-src"]
    assert "https://js.stripe.com" in csp["frame-src"]
    assert "https://api.stripe.com" in csp["connect-src"]


def test_the_policy_admits_the_firebase_auth_api_when_sign_in_is_on(settings, monkeypatch):
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    settings.FIREBASE_WEB_API_KEY = ""
    assert "https://identitytoolkit.googleapis.com" not in policy(Client().get("/"))["connect-src"]
    settings.FIREBASE_WEB_API_KEY = "public-web-key"
    assert "https://identitytoolkit.googleapis.com" in policy(Client().get("/"))["connect-src"]
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    assert "http://127.0.0.1:9099" in policy(Client().get("/"))["connect-src"]


def test_the_swagger_ui_references_no_external_host():
    client = Client()
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.findall(r"https?://", html), html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in s for s in sources)
    assert all(s.startswith("/") for s in sources), sources
    [script_url] = [s for s in sources if "script" in s and "/static/" not in s]
    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert not re.findall(r"https?://", script.content.decode())
