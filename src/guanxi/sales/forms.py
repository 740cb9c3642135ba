"""Sales page forms (leads, opportunities): shape only; services check meaning."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledForm
from guanxi.sales.models import Currency


class LeadForm(StyledForm, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    province = forms.CharField(label=_("Province"), max_length=30, required=False)
    source = forms.CharField(label=_("Source"), max_length=30, required=False,
                             initial="manual")
    campaign = forms.CharField(label=_("Campaign"), max_length=100, required=False)
    message = forms.CharField(label=_("Message"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()


class WebLeadForm(StyledForm, forms.Form):
    """The public form a company embeds on its website."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    province = forms.CharField(label=_("Province"), max_length=30, required=False)
    message = forms.CharField(label=_("How can we help?"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    consent = forms.BooleanField(label=_("I agree to receive news and offers."),
                                 required=False)
    # Spam traps: a hidden field people leave empty, and a minimum fill time.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={
        "tabindex": "-1", "autocomplete": "off", "class": "gx-trap"}))
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()
        self.fields["website"].widget.attrs["class"] = "gx-trap"


class OpportunityForm(StyledForm, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=200)
    customer = forms.IntegerField(label=_("Customer"), widget=forms.Select)
    amount = forms.DecimalField(label=_("Amount"), max_digits=18, decimal_places=2,
                                min_value=0)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices, initial="CNY")
    expected_close = forms.DateField(label=_("Expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    probability = forms.DecimalField(label=_("Win probability (0-1, empty: the stage's)"),
                                     required=False, max_digits=5, decimal_places=4,
                                     min_value=0, max_value=1)
    competitors = forms.CharField(label=_("Competitors"), max_length=300, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)

    def __init__(self, *args, customer_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].widget.choices = list(customer_choices)
        self.fields["customer"].widget.attrs["data-autocomplete"] = "/customers/search/?format=json"
        self.style()
