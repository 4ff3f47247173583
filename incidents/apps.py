from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "incidents"
    verbose_name = "Casualty records"

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from incidents import dataversion
        from incidents.roles import sync_groups_after_migrate
        from incidents.search import register_sqlite_function

        dataversion.connect_signals(self)

        # After auth's own post_migrate handler has created the permissions.
        post_migrate.connect(sync_groups_after_migrate, sender=self)
        # SQLite has no translate(): the Arabic search's folding is a function of each connection.
        connection_created.connect(register_sqlite_function)
