"""Vacuum the call table after a fixed number of changes, on PostgreSQL.

Every attempt updates its call, and a delivered call leaves a dead entry in
the partial indexes of pending calls (``call_due``, ``call_order``) until
the table is vacuumed; every claim reads those entries. By default
autovacuum waits for a fifth of the table to change, which on a table
holding weeks of calls is hundreds of thousands of deliveries. Measured by
``bench/claims.py``: an empty claim took 4.7 ms after 50,000 deliveries and
0.7 ms after a vacuum.
"""

from django.db import migrations

# Changed rows after which autovacuum vacuums and analyses the call table,
# whatever its size: a few seconds of a busy worker. After 10,000
# deliveries an empty claim took 2.1 ms, 1.0 ms after a vacuum
# (``bench/claims.py --calls 10000``).
CALL_TABLE_THRESHOLD = 10_000

TUNE = f"""
    ALTER TABLE webhooks_call SET (
        autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_threshold = {CALL_TABLE_THRESHOLD},
        autovacuum_analyze_scale_factor = 0,
        autovacuum_analyze_threshold = {CALL_TABLE_THRESHOLD}
    )
"""

RESET = """
    ALTER TABLE webhooks_call RESET (
        autovacuum_vacuum_scale_factor,
        autovacuum_vacuum_threshold,
        autovacuum_analyze_scale_factor,
        autovacuum_analyze_threshold
    )
"""


def on_postgresql(sql: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0003_time_ordered_call_ids"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(TUNE), on_postgresql(RESET)),
    ]
