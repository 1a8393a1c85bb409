"""The mobile app's JSON API (docs/API.md): /api/v1/, built with django-ninja."""
