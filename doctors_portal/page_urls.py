"""Server-rendered pages (namespace "pages"); each view calls the apps' services."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views as accounts_views
from bookings import views as bookings_views
from doctors_portal.pages import doctor_dashboard
from payments import views as payments_views
from scheduling import views as scheduling_views

app_name = "pages"

urlpatterns = [
    path("", scheduling_views.home, name="home"),
    path("services/<int:pk>/", scheduling_views.service_slots, name="service"),
    path("doctors/", scheduling_views.doctors, name="doctors"),
    path("doctors/<int:pk>/", scheduling_views.doctor_slots, name="doctor"),
    path("signup/", accounts_views.signup, name="signup"),
    path("login/", accounts_views.SignInView.as_view(), name="login"),
    path("logout/", accounts_views.SignOutView.as_view(), name="logout"),
    path("login/firebase/", accounts_views.firebase_signin, name="firebase_signin"),
    path("verify-email/<str:token>/", accounts_views.verify_email, name="verify_email"),
    path("password-reset/", accounts_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        accounts_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("profile/", accounts_views.profile, name="profile"),
    path("account/data/", accounts_views.account_data, name="account_data"),
    path("account/delete/", accounts_views.account_delete, name="account_delete"),
    path("book/<int:slot_id>/", bookings_views.book, name="book"),
    path("appointments/", bookings_views.my_appointments, name="my_appointments"),
    path("appointments/<int:pk>/cancel/", bookings_views.cancel, name="cancel"),
    path("appointments/<int:pk>/reschedule/", bookings_views.reschedule, name="reschedule"),
    path("book/<int:slot_id>/waitlist/", bookings_views.waitlist_join, name="waitlist_join"),
    path("waitlist/", bookings_views.waitlist, name="waitlist"),
    path("waitlist/<int:pk>/leave/", bookings_views.waitlist_leave, name="waitlist_leave"),
    path("doctor/bookings/<int:pk>/attendance/", bookings_views.attendance, name="attendance"),
    path("appointments/<int:pk>/pay/", payments_views.pay, name="pay"),
    path("appointments/<int:pk>/pay/complete/", payments_views.pay_complete, name="pay_complete"),
    path("doctor/", doctor_dashboard.doctor_dashboard, name="doctor_dashboard"),
    path("doctor/slots/publish/", doctor_dashboard.slot_publish, name="slot_publish"),
    path("doctor/slots/<int:pk>/remove/", doctor_dashboard.slot_remove, name="slot_remove"),
    path("doctor/hours/add/", doctor_dashboard.schedule_add, name="schedule_add"),
    path("doctor/hours/<int:pk>/remove/", doctor_dashboard.schedule_remove, name="schedule_remove"),
    path("doctor/time-off/add/", doctor_dashboard.time_off_add, name="time_off_add"),
    path(
        "doctor/time-off/<int:pk>/remove/",
        doctor_dashboard.time_off_remove,
        name="time_off_remove",
    ),
]
