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


def test_another_processs_change_reaches_this_one(users):
    """A process keeps its copy while the shared stamp holds; another process's change
    replaces the stamp, and the next read here reloads."""
    from django.core.cache import cache

    assert "华北大区" not in {t.name for t in reference.read("teams")["teams"]}
    # Another process renames the team: its write replaces the stamp in the shared cache.
    # Here, only the database and the shared cache change (no signal in this process).
    Team.objects.filter(code="north").update(name="华北大区")
    assert "华北大区" not in {t.name for t in reference.read("teams")["teams"]}
    cache.set("guanxi:ref:stamp:teams", "another process's stamp", None)
    assert "华北大区" in {t.name for t in reference.read("teams")["teams"]}


def test_a_request_reads_the_stamps_once(users, client, monkeypatch):
    from django.core.cache import cache

    client.force_login(users["sales1"])
    client.get("/customers/")
    reads = []
    real = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys, *a, **k: reads.append(
        [key for key in keys if "ref:stamp" in key]) or real(keys, *a, **k))
    assert client.get("/customers/").status_code == 200
    assert len([r for r in reads if r]) == 1  # grants, tags, teams, ... in one round trip


def test_a_change_stays_visible_to_its_own_request(users, django_assert_num_queries):
    reference.read("tags")
    Tag.objects.create(name="新标签")
    assert "新标签" in {t.name for t in reference.read("tags")["tags"]}
    with django_assert_num_queries(0):
        reference.read("tags")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_is_not_kept(users):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        Tag.objects.create(name="回滚的标签")
        assert "回滚的标签" in {t.name for t in reference.read("tags")["tags"]}
        raise RuntimeError("roll back")
    assert "回滚的标签" not in {t.name for t in reference.read("tags")["tags"]}


def test_a_copy_is_reloaded_after_the_timeout(users, monkeypatch):
    """A change the ORM does not see (raw SQL) shows after ``TIMEOUT`` at the latest."""
    import time

    reference.read("teams")
    Team.objects.filter(code="north").update(name="华北大区")
    assert "华北大区" not in {t.name for t in reference.read("teams")["teams"]}
    later = time.monotonic() + reference.TIMEOUT + 1
    monkeypatch.setattr(reference.time, "monotonic", lambda: later)
    assert "华北大区" in {t.name for t in reference.read("teams")["teams"]}
