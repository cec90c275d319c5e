from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.db.backends.signals import connection_created

        from doctors_portal.db.text import register_sqlite_casefold

        # The users search folds Unicode case on SQLite as PostgreSQL does (see the module).
        connection_created.connect(register_sqlite_casefold, dispatch_uid="sqlite_casefold")
