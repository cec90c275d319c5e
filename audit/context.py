"""Who is acting, for the audit trail. auditlog's middleware knows the session's user;
an API request's user is known only once DRF has read its bearer token, so the JWT
authentication names the actor here."""

from auditlog.context import auditlog_value


def audit_actor_set(user) -> None:
    try:
        context = auditlog_value.get()
    except LookupError:  # outside a request (shell, worker): no actor to name
        return
    context["actor"] = user
