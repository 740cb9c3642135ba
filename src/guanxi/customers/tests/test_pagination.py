"""Keyset pagination: every row exactly once, in order, for every sort."""

from __future__ import annotations

import pytest

from guanxi.core.exceptions import ValidationError
from guanxi.customers import queries, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(actors, users):
    records = [{"data": {"name": name, "owner": users["sales1"].pk}}
               for name in ["张三", "李四", "王五", "赵六", "孙七", "周八", "吴九", "郑十"] * 5]
    return services.customer_bulk_create(actor=actors["admin"], records=records)


@pytest.mark.parametrize("sort", list(queries.SORTS))
def test_walks_all_rows_once(actors, many, sort):
    seen, cursor = [], None
    while True:
        page = queries.customer_list(actor=actors["sales1"], sort=sort, cursor=cursor, limit=7)
        seen.extend(c.pk for c in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted(many)
    assert len(seen) == len(set(seen))


def test_count_is_capped(actors, many, settings):
    settings.LIST_COUNT_LIMIT = 10
    page = queries.customer_list(actor=actors["sales1"], limit=5)
    assert page.count_text == "10+"


def test_bad_cursor_and_sort_are_field_errors(actors, many):
    with pytest.raises(ValidationError) as exc:
        queries.customer_list(actor=actors["sales1"], cursor="garbage!")
    assert "cursor" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        queries.customer_list(actor=actors["sales1"], sort="nope")
    assert "sort" in exc.value.message_dict
