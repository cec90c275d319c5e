from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from doctors_portal.api.views import health

api_v1 = [
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), not inline,
    # so the page runs under a policy without 'unsafe-inline' for scripts.
    re_path(r"^docs/?$", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    re_path(r"^health/?$", health, name="health"),
    path("", include("accounts.urls")),
    path("", include("scheduling.urls")),
    path("", include("bookings.urls")),
    path("", include("payments.urls")),
    path("", include("audit.urls")),
    path("", include("calendars.urls")),
]

# A database failure outside a view (a middleware's) is the 503 page; anything else the 500.
handler500 = "doctors_portal.unavailable.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("", include("doctors_portal.page_urls")),
    path("", include("calendars.page_urls")),
]
