"""On PostgreSQL an exclusion constraint backs the no-overlap rule for one doctor's slots.

SQLite has no such constraint; there the service checks overlaps inside the same
IMMEDIATE transaction that inserts, which SQLite serialises.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_slot ADD CONSTRAINT slot_doctor_no_overlap
    EXCLUDE USING gist (doctor_id WITH =, tstzrange(start, "end", '[)') WITH &&)
    WHERE (status <> 'cancelled');
"""
DROP = "ALTER TABLE scheduling_slot DROP CONSTRAINT IF EXISTS slot_doctor_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
