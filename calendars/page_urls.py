from django.urls import path

from calendars import views

app_name = "calendars"

urlpatterns = [
    path("appointments/<int:pk>/calendar.ics", views.booking_ics, name="booking_ics"),
]
