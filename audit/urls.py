from django.urls import re_path

from audit.api import AuditViewSet

urlpatterns = [re_path(r"^audit/?$", AuditViewSet.as_view({"get": "list"}), name="audit")]
