"""The database itself refuses to change or delete a payment, a movement or an audit event."""

from django.db import migrations

APPEND_ONLY_TABLES = ["bank_payment", "bank_movement", "bank_auditevent"]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY_TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION bank_refuse_change() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION 'rows of % are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
                END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION bank_refuse_change();
                """,
                params=None,  # the SQL holds a literal %: no placeholders here
            )
        elif vendor == "sqlite":
            for event in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only'); END;"
                )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY_TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            for event in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event};")


class Migration(migrations.Migration):
    dependencies = [("bank", "0002_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
