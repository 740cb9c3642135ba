"""Reference data (tags, teams, custom fields, saved views) is read from the cache, and any
change to those rows reaches the next page."""

from __future__ import annotations

import pytest

from guanxi.core import reference
from guanxi.core.models import SavedView, Tag, Team

pytestmark = pytest.mark.django_db


def test_one_round_trip_then_none(users, django_assert_num_queries):
    reference.read("tags", "teams")
    with django_assert_num_queries(0):
        assert {t.code for t in reference.read("teams")["teams"]} >= {"east", "north"}


def test_changes_reach_the_next_read(users, client):
    client.force_login(users["sales1"])
    assert "VIP客户" not in client.get("/customers/").content.decode()
    Tag.objects.create(name="VIP客户")
    north = Team.objects.get(code="north")
    north.name = "华北大区"
    north.save()
    SavedView.objects.create(user=users["sales1"], list_name="customers", name="我的重点",
                             query="tag=VIP客户")
    SavedView.objects.create(user=users["sales2"], list_name="customers", name="别人的",
                             query="kind=person")
    page = client.get("/customers/").content.decode()
    assert "VIP客户" in page and "华北大区" in page and "我的重点" in page
    assert "别人的" not in page  # another user's unshared view
    Tag.objects.filter(name="VIP客户").first().delete()
    assert "VIP客户</option>" not in client.get("/customers/").content.decode()


def test_list_page_reads_reference_data_once(users, client, django_assert_max_num_queries):
    client.force_login(users["sales1"])
    client.get("/customers/")
    # Session, user, grants, the count and the page; tags, teams, custom fields and saved
    # views come from the cache.
    with django_assert_max_num_queries(5):
        assert client.get("/customers/").status_code == 200
