"""Page forms: they check shape; the services check meaning."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledForm
from guanxi.interactions.models import Channel, Direction, Initiator, Purpose

LOCAL = "%Y-%m-%dT%H:%M"


def _when(**kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                          format=LOCAL), **kwargs)


class InteractionForm(StyledForm, forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    initiator = forms.ChoiceField(label=_("Initiated by"), choices=Initiator.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), required=False,
                                choices=[("", "—"), *Purpose.choices])
    subject = forms.CharField(label=_("Subject"), max_length=200)
    occurred_at = _when(label=_("When"))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False,
                                          min_value=0, max_value=7 * 24 * 60)
    location = forms.CharField(label=_("Place"), max_length=200, required=False)
    contact = forms.TypedChoiceField(label=_("Contact"), required=False, coerce=int,
                                     empty_value=None)
    body = forms.CharField(label=_("Notes"), required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    follow_up_at = _when(label=_("Follow up on"), required=False,
                         help_text=_("Adds a task for you, due then."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—")] + [(c.pk, c.name) for c in contacts]
        if not contacts:
            del self.fields["contact"]
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0,
                                                                          microsecond=0)
        self.style()

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class TaskForm(StyledForm, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int)
    due_at = _when(label=_("Due"))
    remind_at = _when(label=_("Remind at"), required=False,
                      help_text=_("Empty: a reminder when the task falls due."))
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, assignees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [(u.pk, str(u)) for u in assignees]
        self.style()

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class EmailForm(StyledForm, forms.Form):
    to = forms.ChoiceField(label=_("To"))
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Message"), max_length=50000,
                           widget=forms.Textarea(attrs={"rows": 10}))

    def __init__(self, *args, recipients=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(r.key, f"{r.label} <{r.address}>") for r in recipients]
        self.style()


class FileMailForm(forms.Form):
    customer = forms.IntegerField(min_value=1)
    remember_address = forms.BooleanField(required=False)
