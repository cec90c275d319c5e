"""The database cache's table (throttle counters without Redis), made by `migrate` itself.

Runs the logic of `manage.py createcachetable`: a table for each DatabaseCache in CACHES,
none when the cache is Redis. It checks for the table first, so a database that already
has it (from the old createcachetable step) migrates cleanly.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
