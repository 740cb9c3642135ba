"""/api/v1: tags, custom fields and who-am-I."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StringConstraints

from guanxi.core import queries, services
from guanxi.core.api import actor_from

router = Router(tags=["core"])


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class MeOut(Schema):
    id: int
    username: str
    name: str
    team: str | None
    role: str | None
    sees_personal_data: bool


class TagOut(Schema):
    id: int
    name: str
    color: str


class CustomFieldIn(Schema):
    code: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    label_zh: Annotated[str, StringConstraints(max_length=100)] = ""
    type: Literal["text", "number", "date", "choice", "multi"]
    choices: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=200)
    required: bool = False
    filterable: bool = True
    position: int = Field(0, ge=0, le=10000)


class CustomFieldPatch(Schema):
    version: int = Field(..., ge=1, le=2**31)
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=100)] | None = None
    label_zh: Annotated[str, StringConstraints(max_length=100)] | None = None
    choices: list[Annotated[str, StringConstraints(max_length=100)]] | None = Field(
        None, max_length=200)
    required: bool | None = None
    filterable: bool | None = None
    position: int | None = Field(None, ge=0, le=10000)


class CustomFieldOut(Schema):
    id: int
    code: str
    label: str
    label_zh: str
    type: str
    choices: list[Any]
    required: bool
    filterable: bool
    position: int
    version: int


@router.get("/me", response={200: MeOut, **ERRORS}, tags=["core"])
def me(request: HttpRequest):
    from guanxi.core.access import policy

    actor = actor_from(request)
    u = actor.user
    return {"id": u.pk, "username": u.username, "name": str(u),
            "team": u.team.name if u.team_id else None,
            "role": u.role.code if u.role_id else None,
            "sees_personal_data": policy.sees_pii(actor)}


@router.get("/tags", response={200: list[TagOut], **ERRORS}, tags=["tags"])
def list_tags(request: HttpRequest):
    from guanxi.customers.queries import tag_list

    return tag_list()


@router.get("/custom-fields", response={200: list[CustomFieldOut], **ERRORS},
            tags=["custom fields"])
def list_custom_fields(request: HttpRequest):
    return queries.custom_field_list()


@router.post("/custom-fields", response={201: CustomFieldOut, **ERRORS},
             tags=["custom fields"])
def create_custom_field(request: HttpRequest, payload: CustomFieldIn):
    return Status(201, services.custom_field_create(actor=actor_from(request),
                                                    data=payload.model_dump()))


@router.patch("/custom-fields/{field_id}", response={200: CustomFieldOut, 409: dict, **ERRORS},
              tags=["custom fields"])
def update_custom_field(request: HttpRequest, field_id: int, payload: CustomFieldPatch):
    return services.custom_field_update(
        actor=actor_from(request), field_id=field_id, version=payload.version,
        changes=payload.model_dump(exclude_unset=True, exclude={"version"}))


@router.delete("/custom-fields/{field_id}", response={204: None, **ERRORS},
               tags=["custom fields"])
def delete_custom_field(request: HttpRequest, field_id: int):
    services.custom_field_delete(actor=actor_from(request), field_id=field_id)
    return Status(204, None)
