"""Reference paths, each with and without a trailing slash, onto viewset actions."""

from django.urls import re_path

from accounts.api import AuthViewSet, UserCollectionViewSet, UserViewSet

users = UserCollectionViewSet.as_view(
    {"get": "list", "post": "create", "patch": "partial_update", "delete": "destroy"}
)
user_detail = UserViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    re_path(r"^users/?$", users, name="users"),
    re_path(
        r"^users/(?P<pk>[^/]+)/export/?$",
        UserViewSet.as_view({"get": "export"}),
        name="user-export",
    ),
    re_path(
        r"^users/(?P<pk>[^/]+)/photo/?$",
        UserViewSet.as_view({"get": "photo"}),
        name="user-photo",
    ),
    re_path(
        r"^users/(?P<pk>[^/]+)/licence-document/?$",
        UserViewSet.as_view({"get": "licence_document"}),
        name="user-licence-document",
    ),
    re_path(r"^users/(?P<pk>[^/]+)/?$", user_detail, name="user-detail"),
    re_path(r"^user/?$", UserViewSet.as_view({"get": "by_email"}), name="user-by-email"),
    re_path(r"^usersrole/?$", UserViewSet.as_view({"get": "role"}), name="user-role"),
    re_path(r"^jwt/?$", AuthViewSet.as_view({"get": "firebase"}), name="jwt"),
    re_path(r"^auth/token/?$", AuthViewSet.as_view({"post": "password"}), name="token"),
    re_path(
        r"^auth/token/refresh/?$", AuthViewSet.as_view({"post": "refresh"}), name="token-refresh"
    ),
    re_path(r"^auth/logout/?$", AuthViewSet.as_view({"post": "logout"}), name="logout"),
    re_path(
        r"^auth/verify-email/?$",
        AuthViewSet.as_view({"post": "verify_email"}),
        name="verify-email",
    ),
    re_path(
        r"^auth/verify-email/resend/?$",
        AuthViewSet.as_view({"post": "verify_email_resend"}),
        name="verify-email-resend",
    ),
    re_path(
        r"^auth/password-reset/?$",
        AuthViewSet.as_view({"post": "password_reset"}),
        name="password-reset",
    ),
    re_path(
        r"^auth/password-reset/confirm/?$",
        AuthViewSet.as_view({"post": "password_reset_confirm"}),
        name="password-reset-confirm",
    ),
]
