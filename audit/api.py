"""`GET audit?entity=&id=`: the audit trail, administrators only, in the envelope."""

from functools import partial

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from accounts.permissions import IsAdmin
from audit import selectors
from audit.registry import AUDITED
from audit.serializers import AuditEntrySerializer
from doctors_portal.api.pagination import PageLimitPagination


class AuditViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsAdmin]
    serializer_class = AuditEntrySerializer
    pagination_class = PageLimitPagination

    @extend_schema(
        summary="The audit trail (admin): who changed what, when, from and to",
        parameters=[
            OpenApiParameter("entity", str, enum=sorted(AUDITED)),
            OpenApiParameter("id", int),
        ],
    )
    def list(self, request):
        params = request.query_params
        rows = self.paginator.paginate_rows(
            request,
            partial(selectors.audit_page, entity=params.get("entity"), id=params.get("id")),
        )
        return self.paginator.get_paginated_response(
            [selectors.audit_entry_out(row) for row in rows],
            message="Audit trail retrieved successfully",
        )
