from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import FieldType


class StyledForm:
    """Give widgets Tabler's classes (form-control, form-select)."""

    def style(self) -> None:
        for field in self.fields.values():
            w = field.widget
            if isinstance(w, (forms.CheckboxInput, forms.CheckboxSelectMultiple,
                              forms.HiddenInput)):
                continue
            css = "form-select" if isinstance(w, forms.Select) else "form-control"
            w.attrs["class"] = (w.attrs.get("class", "") + " " + css).strip()
            if isinstance(w, (forms.TextInput, forms.EmailInput, forms.NumberInput)):
                w.attrs.setdefault("placeholder", str(field.label or ""))


class LoginForm(AuthenticationForm):
    username = forms.CharField(label=_("Username"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True,
                                                             "autocomplete": "username"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={
                                   "autocomplete": "current-password"}))


class CustomFieldForm(StyledForm, forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=50,
                           help_text=_("Lower-case letters, digits and _; used in the API."))
    label = forms.CharField(label=_("Label"), max_length=100)
    label_zh = forms.CharField(label=_("Label (Chinese)"), max_length=100, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices)
    choices = forms.CharField(label=_("Choices"), required=False,
                              help_text=_("One per line, for choice fields."),
                              widget=forms.Textarea(attrs={"rows": 3}))
    required = forms.BooleanField(label=_("Required"), required=False)
    filterable = forms.BooleanField(label=_("Filterable"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()

    def to_data(self) -> dict:
        d = dict(self.cleaned_data)
        d["choices"] = [c.strip() for c in (d.get("choices") or "").splitlines() if c.strip()]
        return d


class UserForm(StyledForm, forms.Form):
    username = forms.RegexField(label=_("Username"), max_length=150, regex=r"^[\w.@+-]+$")
    first_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ModelChoiceField(label=_("Role"), queryset=None)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    password = forms.CharField(label=_("Password"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("Leave empty to keep the current password."))

    def __init__(self, *args, roles, teams, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles
        self.fields["team"].queryset = teams
        if editing:
            self.fields["username"].disabled = True
        else:
            self.fields["password"].required = True
            self.fields["password"].help_text = ""
        self.style()

    def to_data(self) -> dict:
        d = {k: v for k, v in self.cleaned_data.items() if k != "password"}
        d["role"] = d["role"].pk if d.get("role") else None
        d["team"] = d["team"].pk if d.get("team") else None
        return d


class TeamForm(StyledForm, forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()


class _RenderedWidgets(dict):
    """Field name → the field's widget HTML, rendered on first use (see static_widgets)."""

    def __init__(self, form_class: type[forms.Form]):
        super().__init__()
        self._form = form_class()

    def __missing__(self, name: str):
        html = self[name] = self._form[name].as_widget()
        return html


_static_widgets: dict[tuple[type, str], _RenderedWidgets] = {}


def static_widgets(form_class: type[forms.Form]) -> _RenderedWidgets:
    """The widgets of an empty ``form_class``, each rendered once per process and language.

    For the small "add" forms shown on every detail page: an unbound form whose choices are
    constants renders the same HTML every time, and Django renders a widget through its
    template engine at about half a millisecond each. In a template ``{{ form.kind }}``
    reads the rendered widget as it would read a bound field's."""
    from django.utils.translation import get_language

    key = (form_class, get_language() or "")
    widgets = _static_widgets.get(key)
    if widgets is None:
        widgets = _static_widgets[key] = _RenderedWidgets(form_class)
    return widgets
