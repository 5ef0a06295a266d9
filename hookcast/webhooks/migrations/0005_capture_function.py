"""Capture a record change in one statement, on PostgreSQL.

``hookcast_capture`` does inside the server what ``capture.py`` did in two
statements: find the station's enabled webhooks subscribed to the event,
insert the event and one call per webhook, and notify the workers. One
round trip instead of two, and the server keeps the plans of the function's
statements for the session, where a statement sent as text is planned at
every save. ``bench/delivery.py --parts save --backends postgresql``: a save
with 3 webhooks took 1.54 and 1.59 ms, against 1.66 and 2.22 ms before; one
with none, 1.1 to 1.3 ms either way.

The caller renders the record in the station's timezone, which it may not
know yet, or know from before the station changed it. The function checks
the timezone it was given against the station's and, where they differ,
writes nothing and answers with the station's timezone, to be called again
with the record rendered in it.

``hookcast_call_id`` is ``new_call_id`` of ``webhooks/models.py`` in SQL: a
version 7 UUID with the millisecond of ``at``. A change to the call or event
columns needs a migration that replaces these functions.
"""

from django.db import migrations

CREATE_CALL_ID = """
    CREATE OR REPLACE FUNCTION hookcast_call_id(at timestamptz) RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
        SELECT encode(
            set_byte(
                overlay(random PLACING millis FROM 1 FOR 6),
                6,
                (get_byte(random, 6) & 15) | 112  -- version 7
            ),
            'hex'
        )::uuid
        FROM (
            -- Version 4 bytes: random, and already of variant 10.
            SELECT uuid_send(gen_random_uuid()) AS random,
                   substring(
                       int8send(floor(extract(epoch FROM at) * 1000)::bigint)
                       FROM 3
                   ) AS millis
        ) AS parts
    $$
"""

CREATE_CAPTURE = """
    CREATE OR REPLACE FUNCTION hookcast_capture(
        p_station bigint,
        p_key text,
        p_sender_id bigint,
        p_sender text,
        p_timezone text,
        p_at timestamptz,
        p_ordering_key text,
        OUT calls integer,
        OUT station_timezone text
    ) LANGUAGE plpgsql AS $$
    DECLARE
        webhook_ids bigint[];
        new_event_id bigint;
    BEGIN
        calls := 0;
        SELECT array_agg(w.id ORDER BY w.id), min(s.timezone)
        INTO webhook_ids, station_timezone
        FROM webhooks_webhook w JOIN stations_station s ON s.id = w.station_id
        WHERE w.station_id = p_station AND w.event = p_key AND w.enabled;
        IF webhook_ids IS NULL OR p_timezone IS DISTINCT FROM station_timezone THEN
            -- Nothing subscribed (no timezone either), or the record is to
            -- be rendered again in the station's timezone.
            RETURN;
        END IF;
        INSERT INTO webhooks_event (station_id, key, sender_id, sender, created_at)
        VALUES (p_station, p_key, p_sender_id, p_sender, p_at)
        RETURNING id INTO new_event_id;
        INSERT INTO webhooks_call (
            call_id, station_id, webhook_id, event_id, ordering_key, status,
            attempt_count, retry_count, next_attempt_at, created_at, last_error
        )
        SELECT hookcast_call_id(p_at), p_station, webhook.id, new_event_id,
               p_ordering_key, 'pending', 0, 0, p_at, p_at, ''
        FROM unnest(webhook_ids) WITH ORDINALITY AS webhook(id, n)
        ORDER BY webhook.n;
        -- Delivered to the workers when the change commits.
        PERFORM pg_notify('hookcast_calls', '');
        calls := cardinality(webhook_ids);
    END
    $$
"""

DROP_CAPTURE = """
    DROP FUNCTION IF EXISTS
        hookcast_capture(bigint, text, bigint, text, text, timestamptz, text)
"""

DROP_CALL_ID = "DROP FUNCTION IF EXISTS hookcast_call_id(timestamptz)"


def on_postgresql(*statements: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0004_call_autovacuum"),
    ]

    operations = [
        migrations.RunPython(
            on_postgresql(CREATE_CALL_ID, CREATE_CAPTURE),
            on_postgresql(DROP_CAPTURE, DROP_CALL_ID),
        ),
    ]
