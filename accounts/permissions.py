"""Role permissions shared by every app's API and pages."""

from rest_framework.permissions import BasePermission

from accounts.models import Role, is_admin

__all__ = ["IsAdmin", "IsDoctor", "IsDoctorOrAdmin", "IsPatient", "is_admin"]


def _has_role(request, *roles: str) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


class IsAdmin(BasePermission):
    message = "Only administrators may do this."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)


class IsPatient(BasePermission):
    message = "Only patients may do this."

    def has_permission(self, request, view) -> bool:
        return _has_role(request, Role.PATIENT)


class IsDoctor(BasePermission):
    message = "Only doctors may do this."

    def has_permission(self, request, view) -> bool:
        return _has_role(request, Role.DOCTOR)


class IsDoctorOrAdmin(BasePermission):
    message = "Only doctors and administrators may do this."

    def has_permission(self, request, view) -> bool:
        return _has_role(request, Role.DOCTOR) or is_admin(request.user)
