"""Forms of the booking pages: input only; bookings.services decides."""

from django import forms


class BookingForm(forms.Form):
    phone = forms.CharField(
        label="Phone for this appointment",
        max_length=32,
        required=False,
        help_text="Optional. The clinic calls this number if the appointment changes.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
