"""The pages' answer when the database is unavailable: a 503 page with Retry-After.

The pool's wait ran past DB_POOL_TIMEOUT, PostgreSQL refused the connection, SQLite could
not open its file: the API answers its 503 envelope, the pages this page. Which errors
count is decided once, in doctors_portal.db.failures, for both layers.

Django hands an error to one of two places, so there are two ways in:
- `DatabaseUnavailableMiddleware.process_exception`: what a view or its template raised
  (DEBUG too, so `make run` shows this page rather than the technical one);
- `server_error`, the project's handler500: what a middleware raised before any view
  ran, e.g. the audit trail's middleware reading a signed-in visitor's session and user
  (any session cookie does it, on the API's paths too: those answer the API's envelope).
"""

import logging
import sys

from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

from doctors_portal.api.middleware import API_PREFIX, database_unavailable_envelope
from doctors_portal.context_processors import clinic
from doctors_portal.db.failures import RETRY_AFTER_SECONDS, database_failure_message

logger = logging.getLogger(__name__)


def database_unavailable_page(request, exc, message: str) -> HttpResponse:
    logger.warning("Database unavailable at %s (%s): %s", request.path, message, exc)
    # Rendered without the request's context processors: they read the session, the
    # user and the messages, each from the database that just failed. So the header
    # shows the signed-out links, whoever asks.
    content = render_to_string("503.html", {"user": AnonymousUser(), **clinic(request)})
    response = HttpResponse(content, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # The warning above is the failure's one record: Django's own line for a 5xx answer
    # (with a traceback from handler500) would repeat it on every request of an outage.
    response._has_been_logged = True
    return response


def _page_failure_message(request, exc) -> str | None:
    if request.path.startswith(API_PREFIX):
        return None
    return database_failure_message(exc)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        message = _page_failure_message(request, exception)
        if message is None:
            return None
        return database_unavailable_page(request, exception, message)


def server_error(request):
    """handler500: a database failure is a 503 (the API's envelope on its paths, else
    the page); anything else Django's 500 page (the API's envelope middleware makes that
    its 500 envelope)."""
    exc = sys.exc_info()[1]
    message = database_failure_message(exc)
    if message is None:
        return defaults.server_error(request)
    if request.path.startswith(API_PREFIX):
        return database_unavailable_envelope(request, exc, message)
    return database_unavailable_page(request, exc, message)
