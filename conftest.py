import os

os.environ.setdefault("GUANXI_DEV", "1")
os.environ.setdefault("GUANXI_TESTING", "1")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")  # Playwright's sync API in live tests
