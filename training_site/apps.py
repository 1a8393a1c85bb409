from django.apps import AppConfig
from django.core import checks
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _

from training_site import observability


class TrainingSiteConfig(AppConfig):
    name = "training_site"
    verbose_name = _("Knowledge Bridge")

    def ready(self):
        from training_site import health  # reads the task queue's model

        # Request statistics and the slow-query log see every connection: web workers, the
        # task worker and commands alike.
        connection_created.connect(observability.watch_connection)
        checks.register(health.shared_cache_check, checks.Tags.caches, deploy=True)
