from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanxi.core.access import mask_value
from guanxi.core.text import (
    PhoneError,
    format_phone,
    normalize_phone,
    phone_search_digits,
    pinyin_keys,
    prefix_range,
)


@pytest.mark.parametrize("name,keys", [
    ("张三", ("zhangsan", "zs")), ("John Smith", ("johnsmith", "js")),
    ("阿里 Cloud", ("alicloud", "alc")), ("  ", ("", "")), ("李-四", ("lisi", "ls")),
])
def test_pinyin_keys(name, keys):
    assert pinyin_keys(name) == keys


def test_phone_formats():
    assert normalize_phone("138 1234 5678") == ("+8613812345678", "13812345678")
    assert normalize_phone("010-6552 9988")[0] == "+861065529988"
    assert normalize_phone("+44 20 7946 0958") == ("+442079460958", "442079460958")
    assert format_phone("+8613812345678") == "138 1234 5678"
    for bad in ["", "12", "abc", "+86 123"]:
        with pytest.raises(PhoneError):
            normalize_phone(bad)


def test_phone_search_digits():
    assert phone_search_digits("138-1234") == "1381234"
    assert phone_search_digits("+86 138 1234 5678") == "13812345678"
    assert phone_search_digits("zs") is None
    assert phone_search_digits("12") is None


def test_masks():
    assert mask_value("138 1234 5678", "phone") == "138****5678"
    assert mask_value("zhangsan@example.com", "email") == "z***@example.com"
    assert mask_value("110101199003071234", "id") == "110***********1234"


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", max_size=8))
def test_prefix_range_matches_exactly_the_prefixed(prefix, rest):
    low, high = prefix_range(prefix)
    assert low <= prefix + rest < high
