"""The customer page's cards reuse the page's own visibility check."""

from __future__ import annotations

import pytest

from guanxi.core import audit
from guanxi.core.exceptions import NotFound
from guanxi.customers import queries
from guanxi.customers.tests.factories import customer


@pytest.mark.django_db
def test_visibility_asked_once_until_the_actor_writes(actors, django_assert_num_queries):
    """The customer page's cards reuse the page's own visibility check; a write by the same
    actor (which might reassign the customer) makes the next read ask again."""
    actor = actors["sales1"]
    c = customer(actor, "李四")
    queries.customer_get(actor=actor, customer_id=c.pk)
    with django_assert_num_queries(0):
        queries.require_visible(actor=actor, customer_id=c.pk)
    audit.record(actor, c, "update", changes={"name": ["李四", "李四"]})
    with django_assert_num_queries(1):
        queries.require_visible(actor=actor, customer_id=c.pk)
    with pytest.raises(NotFound):
        queries.require_visible(actor=actors["sales2"], customer_id=c.pk)
