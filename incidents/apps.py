from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "incidents"
    verbose_name = "Casualty records"

    def ready(self):
        from django.db.models.signals import post_migrate

        from incidents import dataversion
        from incidents.roles import sync_groups_after_migrate

        dataversion.connect_signals(self)

        # After auth's own post_migrate handler has created the permissions.
        post_migrate.connect(sync_groups_after_migrate, sender=self)
