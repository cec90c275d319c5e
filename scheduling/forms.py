"""Forms of the scheduling pages: they parse input, scheduling.services decides."""

import re

from django import forms

from scheduling.models import WEEKDAYS, Service


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DatePickForm(forms.Form):
    date = forms.DateField(label="Date", widget=DateInput())


class SlotPublishForm(forms.Form):
    date = forms.DateField(label="Date", widget=DateInput())
    labels = forms.CharField(
        label="Times",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "10.00 AM-11.00 AM"}),
        help_text='One time range per line, e.g. "10.00 AM-11.00 AM" or "14:00-15:00".',
    )
    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.filter(is_active=True),
        required=False,
        empty_label="My specialty",
    )
    capacity = forms.IntegerField(label="Patients per slot", min_value=1, max_value=1000, initial=1)

    def clean_labels(self) -> list[str]:
        labels = [part.strip() for part in re.split(r"[\n,;]+", self.cleaned_data["labels"])]
        labels = [label for label in labels if label]
        if not labels:
            raise forms.ValidationError("Enter at least one time range.")
        return labels


class DoctorSearchForm(forms.Form):
    """The doctors directory's filter: a specialty and words of a name (GET)."""

    specialty = forms.ModelChoiceField(
        label="Specialty",
        queryset=Service.objects.filter(is_active=True).order_by("name", "id"),
        required=False,
        empty_label="Any specialty",
    )
    q = forms.CharField(
        label="Name or specialty",
        required=False,
        max_length=100,  # scheduling.selectors.MAX_DIRECTORY_SEARCH, as the API
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. Karim"}),
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class WeeklyHoursForm(forms.Form):
    """Weekly hours on the dashboard; scheduling.schedules checks and generates them."""

    weekdays = forms.MultipleChoiceField(
        label="Weekdays",
        choices=[(day, day.capitalize()) for day in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "weekdays"}),
    )
    start_time = forms.TimeField(label="Start time", widget=TimeInput())
    end_time = forms.TimeField(label="End time", widget=TimeInput())
    slot_minutes = forms.IntegerField(
        label="Minutes per slot", min_value=1, max_value=100_000, initial=30
    )
    capacity = forms.IntegerField(label="Patients per slot", min_value=1, max_value=1000, initial=1)
    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.filter(is_active=True),
        required=False,
        empty_label="My specialty",
    )
    valid_from = forms.DateField(label="Starting", widget=DateInput())
    valid_until = forms.DateField(
        label="Ending (optional)", widget=DateInput(), required=False, help_text="Last day"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "hours")
        super().__init__(*args, **kwargs)


class TimeOffForm(forms.Form):
    """Whole clinic-local days off, first to last."""

    first_day = forms.DateField(label="First day off", widget=DateInput())
    last_day = forms.DateField(label="Last day off", widget=DateInput())
    reason = forms.CharField(label="Reason (optional)", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "off")
        super().__init__(*args, **kwargs)
