import os

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by the
# test itself (creating users and pages) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
