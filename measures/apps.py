from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_change_log(sender, using, **kwargs) -> None:
    """Install the triggers that log changed values after every migrate (engine.changes)."""
    from django.db import connections

    from measures.engine.changes import changes_install

    changes_install(connections[using])


class MeasuresConfig(AppConfig):
    name = "measures"
    verbose_name = "Plan and measures"

    def ready(self) -> None:
        from measures import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(_install_change_log, sender=self, dispatch_uid="pcp-change-log")
