"""The product's own 404 page, in the demo too.

With DEBUG on (`make run`), Django answers a missing page with its technical 404, which
lists every URL pattern of the project. A patient who mistypes an address should see the
product's page instead, so unless DJANGO_DEBUG_TECHNICAL_404 asks for Django's page, this
middleware answers with the same page production shows (templates/404.html, through
Django's `page_not_found`) and writes the technical detail to the server log.
The API is left alone: it answers 404 in its envelope.
"""

import logging

from django.conf import settings
from django.http import Http404
from django.urls import Resolver404, resolve
from django.views.defaults import page_not_found

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _wanted(request) -> bool:
    return (
        settings.DEBUG
        and not settings.DEBUG_TECHNICAL_404
        and not request.path_info.startswith(API_PREFIX)
    )


class ProductNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # No resolver match: the URL matched no pattern, and in DEBUG Django has just
        # rendered its technical page for it (a view's own 404 is handled below).
        if response.status_code == 404 and request.resolver_match is None and _wanted(request):
            try:
                resolve(request.path_info)
            except Resolver404 as exc:
                tried = exc.args[0].get("tried", []) if exc.args else []
                logger.info(
                    "Not found: %s matches none of the %d URL patterns", request.path, len(tried)
                )
                return page_not_found(request, exc)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and _wanted(request):
            match = request.resolver_match
            logger.info(
                "Not found: %s (view %s: %s)",
                request.path,
                match.view_name if match else "?",
                exception,
            )
            return page_not_found(request, exception)
        return None
