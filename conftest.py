import os

os.environ.setdefault("GUANXI_DEV", "1")
os.environ.setdefault("GUANXI_TESTING", "1")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")  # Playwright's sync API in live tests


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the database it saw cached is rolled back."""
    from django.core.cache import cache

    from guanxi.core import reference

    cache.clear()
    reference.reset()
    yield
    cache.clear()
    reference.reset()
