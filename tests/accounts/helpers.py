import base64
import json
import time
import uuid

from tests.fixtures.firebase import PROJECT_ID


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_token(*, email: str, verified: bool = True, **overrides) -> str:
    """An emulator-style (alg none) Firebase ID token with chosen claims."""
    now = int(time.time())
    uid = overrides.pop("uid", uuid.uuid4().hex[:28])
    claims = {
        "iss": f"https://securetoken.google.com/{PROJECT_ID}",
        "aud": PROJECT_ID,
        "auth_time": now,
        "user_id": uid,
        "sub": uid,
        "iat": now,
        "exp": now + 3600,
        "email": email,
        "email_verified": verified,
        "firebase": {"identities": {"email": [email]}, "sign_in_provider": "password"},
    }
    claims.update(overrides)
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def unique_email(prefix: str = "fb") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def assert_error(response, status: int, message: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert body["status"] == "Error"
    assert isinstance(body["errorMessages"], list) and body["errorMessages"]
    if message is not None:
        assert body["message"] == message, body
    return body


def error_paths(response) -> set[str]:
    return {item["path"] for item in response.json()["errorMessages"]}
