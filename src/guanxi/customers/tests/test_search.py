"""Search by name, full pinyin, initials, phone in any format, email, company."""

from __future__ import annotations

import pytest

from guanxi.customers import queries, services
from guanxi.customers.tests.factories import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(actors):
    a = actors["sales1"]
    zs = customer(a, "张三", phone="13812345678", email="zhangsan@example.com")
    zsf = customer(a, "张山峰", phone="13987654321")
    li = customer(a, "李四", email="Lisi@Example.cn", employer="阿里巴巴")
    en = customer(a, "John Smith", phone="+44 20 7946 0958")
    org = customer(a, "华信科技有限公司", kind="organisation")
    services.contact_create(actor=a, customer_id=org.pk, data={"name": "王五"})
    return {"zs": zs, "zsf": zsf, "li": li, "en": en, "org": org}


def names(rows):
    return [c.name for c in rows]


@pytest.mark.parametrize("term,expected", [
    ("zs", ["张三", "张山峰"]),
    ("ZS", ["张三", "张山峰"]),
    ("zhangsan", ["张三"]),
    ("zhang", ["张三", "张山峰"]),
    ("zhang san", ["张三"]),
    ("138 1234 5678", ["张三"]),
    ("+86-138-1234-5678", ["张三"]),
    ("1381234", ["张三"]),
    ("0086 13812345678", ["张三"]),
    ("lisi@example.cn", ["李四"]),
    ("李", ["李四"]),
    ("阿里", ["李四"]),
    ("js", ["John Smith"]),
    ("johns", ["John Smith"]),
    ("华信", ["华信科技有限公司"]),
    ("王五", ["华信科技有限公司"]),
])
def test_search_finds(actors, people, term, expected):
    found = names(queries.customer_search(actor=actors["sales1"], term=term))
    assert sorted(found) == sorted(expected)


def test_exact_initials_rank_first(actors, people):
    found = names(queries.customer_search(actor=actors["sales1"], term="zs"))
    assert found[0] == "张三"


def test_search_respects_scope(actors, people):
    assert queries.customer_search(actor=actors["sales2"], term="zs") == []
    assert names(queries.customer_search(actor=actors["manager"], term="zs"))


def test_list_filter_q_matches_search(actors, people):
    page = queries.customer_list(actor=actors["sales1"],
                                 filters=queries.CustomerFilters(q="zs"))
    assert sorted(names(page.items)) == ["张三", "张山峰"]


def test_custom_field_filter(actors, people):
    from guanxi.core import services as core_services

    core_services.custom_field_create(actor=actors["admin"], data={
        "code": "level", "label": "Level", "type": "choice", "choices": ["A", "B"]})
    zs = people["zs"]
    services.customer_update(actor=actors["sales1"], customer_id=zs.pk, version=zs.version,
                             changes={}, custom={"level": "A"})
    page = queries.customer_list(actor=actors["sales1"],
                                 filters=queries.CustomerFilters(custom={"level": "A"}))
    assert names(page.items) == ["张三"]
