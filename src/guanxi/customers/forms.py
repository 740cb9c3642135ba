"""Page forms: they check shape; the services check meaning."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import StyledForm
from guanxi.core.models import CustomField
from guanxi.customers.models import (
    AddressKind,
    ConsentChannel,
    ConsentPurpose,
    ContactPointKind,
    Customer,
)

PROFILE_FIELDS = [
    "kind", "name", "relation_kind", "consumer_type", "source_type", "source_channel",
    "source_cost", "gender", "birth_date", "id_number", "occupation", "income_band",
    "education", "marital_status", "family_size", "employer", "job_title", "interests",
    "purchase_motive", "personality", "lifestyle", "brand_attitude", "industry",
    "company_size", "relationship_type", "registration_number", "website",
    "purchase_intent", "intent_change_pct", "intent_from", "notes",
]
PERSON_ONLY = {"gender", "birth_date", "id_number", "occupation", "income_band", "education",
               "marital_status", "family_size", "employer", "job_title", "interests",
               "purchase_motive", "personality", "lifestyle", "brand_attitude"}
ORG_ONLY = {"industry", "company_size", "relationship_type", "registration_number", "website"}


class CustomerForm(StyledForm, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=40, required=False,
                            help_text=_("Any format: 138 1234 5678, +86-138-1234-5678 …"))
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    tags = forms.CharField(label=_("Tags"), max_length=500, required=False,
                           help_text=_("Separate with commas."))

    class Meta:
        model = Customer
        fields = PROFILE_FIELDS + ["owner"]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}),
            "intent_from": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, creating: bool = False, owners=None, writable=None,
                 custom_fields: list[CustomField] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = creating
        if not creating:
            for name in ("phone", "email", "tags"):
                del self.fields[name]
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = owners
            self.fields["owner"].required = False
        if writable is not None:
            for name in list(self.fields):
                if name in Customer._meta.fields_map or name in {f.name for f in
                                                                 Customer._meta.fields}:
                    if name not in writable and name != "version":
                        self.fields[name].disabled = True
        for name, field in self.fields.items():
            if name in PERSON_ONLY:
                field.widget.attrs["data-kind"] = "person"
            elif name in ORG_ONLY:
                field.widget.attrs["data-kind"] = "organisation"
        self.custom_fields = custom_fields or []
        for cf in self.custom_fields:
            self.fields[f"cf_{cf.code}"] = _custom_form_field(cf)
        self.style()

    def custom_data(self) -> dict:
        out = {}
        for cf in self.custom_fields:
            value = self.cleaned_data.get(f"cf_{cf.code}")
            if cf.type == "date" and value:
                value = value.isoformat()
            out[cf.code] = value if value not in (None,) else ""
        return out

    def changes(self) -> dict:
        data = {}
        for name in PROFILE_FIELDS + ["owner"]:
            if name in self.fields and not self.fields[name].disabled:
                value = self.cleaned_data.get(name)
                if name == "owner":
                    if value is None:
                        continue
                    value = value.pk
                data[name] = value
        return data


def _custom_form_field(cf: CustomField) -> forms.Field:
    label = cf.display_label()
    if cf.type == "number":
        return forms.DecimalField(label=label, required=cf.required, max_digits=20,
                                  decimal_places=6)
    if cf.type == "date":
        return forms.DateField(label=label, required=cf.required,
                               widget=forms.DateInput(attrs={"type": "date"}))
    if cf.type == "choice":
        return forms.ChoiceField(label=label, required=cf.required,
                                 choices=[("", "—")] + [(c, c) for c in cf.choices])
    if cf.type == "multi":
        return forms.MultipleChoiceField(label=label, required=cf.required,
                                         choices=[(c, c) for c in cf.choices],
                                         widget=forms.CheckboxSelectMultiple)
    return forms.CharField(label=label, required=cf.required, max_length=500)


class ContactPointForm(StyledForm, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()

    kind = forms.ChoiceField(label=_("Kind"), choices=ContactPointKind.choices)
    value = forms.CharField(label=_("Value"), max_length=254)
    label = forms.CharField(label=_("Label"), max_length=50, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)


class AddressForm(StyledForm, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()

    kind = forms.ChoiceField(label=_("Kind"), choices=AddressKind.choices)
    province = forms.CharField(label=_("Province"), max_length=30)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    district = forms.CharField(label=_("District"), max_length=50, required=False)
    street = forms.CharField(label=_("Street"), max_length=200, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=12, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)


class ContactForm(StyledForm, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()

    name = forms.CharField(label=_("Name"), max_length=100)
    role = forms.CharField(label=_("Role"), max_length=100, required=False)
    department = forms.CharField(label=_("Department"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)


class ConsentForm(StyledForm, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()

    channel = forms.ChoiceField(label=_("Channel"), choices=ConsentChannel.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    granted = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "1",
                                     choices=[("1", _("granted")), ("0", _("withdrawn"))])
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    evidence = forms.CharField(label=_("Evidence"), max_length=300, required=False)
