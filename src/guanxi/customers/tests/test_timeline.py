"""The customer's timeline: loaded after the customer page's first screen, a page at a time,
newest first, every entry once however the pages fall."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from guanxi.core import timeline
from guanxi.core.timeline import Entry
from guanxi.customers import services
from guanxi.customers.tests.factories import customer

pytestmark = pytest.mark.django_db


def _older_link(html: str) -> str | None:
    m = re.search(r'hx-get="([^"]+\?before=[^"]+)"', html)
    return m.group(1).replace("&amp;", "&") if m else None


def test_the_page_loads_the_timeline_and_older_entries_follow(client, actors, users):
    c = customer(actors["sales1"], "张三")
    version = c.version
    for i in range(30):
        services.customer_update(actor=actors["sales1"], customer_id=c.pk, version=version,
                                 changes={"occupation": f"job{i + 1}"})
        version += 1
    client.force_login(users["sales1"])
    page = client.get(f"/customers/{c.pk}/").content.decode()
    assert f'hx-get="/customers/{c.pk}/timeline/"' in page

    first = client.get(f"/customers/{c.pk}/timeline/").content.decode()
    assert first.count('class="list-group-item timeline-change"') == 20
    assert "<ins>job30</ins>" in first and "<ins>job11</ins>" in first
    assert "<ins>job10</ins>" not in first
    older = _older_link(first)
    assert older and older.startswith(f"/customers/{c.pk}/timeline/?before=")
    second = client.get(older).content.decode()
    # 10 more changes and the creation; nothing repeated, nothing left out, no further page.
    assert second.count('class="list-group-item timeline-') == 11
    assert "<ins>job10</ins>" in second and "<ins>job1</ins>" in second
    assert "<ins>job11</ins>" not in second
    assert _older_link(second) is None
    assert "No history yet" not in second


def test_entries_of_one_instant_never_straddle_two_pages(actors, monkeypatch):
    c = customer(actors["sales1"], "张三")
    now = timezone.now()
    # 25 entries: 15 distinct instants, then 10 sharing one instant across the page limit.
    made = [Entry(at=now - dt.timedelta(minutes=i), kind="test", title=f"e{i}")
            for i in range(15)]
    same = now - dt.timedelta(hours=1)
    made += [Entry(at=same, kind="test", title=f"s{i}") for i in range(10)]

    def provider(actor, customer_id, limit, before):
        rows = [e for e in made if before is None or e.at < before]
        return sorted(rows, key=lambda e: e.at, reverse=True)[:limit]

    monkeypatch.setattr(timeline, "_providers", {"test": provider})
    seen, before = [], None
    for _ in range(5):
        p = timeline.page(actor=actors["sales1"], customer_id=c.pk, limit=20, before=before)
        seen += [e.title for e in p.entries]
        before = p.next_before
        if before is None:
            break
    assert sorted(seen) == sorted(e.title for e in made)  # each once
    assert len(seen) == len(set(seen))


def test_timeline_checks_its_input_and_the_scope(client, actors, users):
    c = customer(actors["sales1"], "张三")
    client.force_login(users["sales1"])
    r = client.get(f"/customers/{c.pk}/timeline/?before=yesterday")
    assert r.status_code == 400 and "before" in r.content.decode()
    r = client.get(f"/customers/{c.pk}/timeline/?before=2026-11-24T09:30:00")  # no offset
    assert r.status_code == 400
    r = client.get(f"/customers/{c.pk}/timeline/?before=2026-11-24T09:30:00%2B08:00")
    assert r.status_code == 200
    client.force_login(users["sales2"])
    assert client.get(f"/customers/{c.pk}/timeline/").status_code == 404
