"""Kafka batches decoded, deduplicated and rolled up inside DuckDB (``DuckDBStore``'s
``stage_messages`` and ``apply_staged``: the ``MessageStager`` capability, ``duckdb/stager.py``).

Per record, Python costs ~50 µs from message to rollup (decoding, validation, rollup, column
lists); DuckDB does the same work column-wise for a few µs. So a batch goes in as raw text and
SQL does the rest, in two steps that run side by side for consecutive batches:

1. ``stage.stage``, on a cursor of its own, writing only to an in-memory scratch database: the
   staging query (``sql/stage.sql``, with the macros of ``sql/macros.sql``) parses every message
   once and decides, per message, whether it is *plain*: a JSON object of one known shape whose
   fields are all of the types and forms that SQL reads exactly as ``normalize`` would (ISO-8601
   or epoch times, string or integer ids, short messages, no ``NaN``...). Plain messages become
   canonical rows of the batch's staged table. Every other message is decoded in Python by
   ``upstream.decode``, the reference: its record joins the table, or its rejection is returned
   (for the dead-letter topic).
2. ``apply.apply``, in the writer's transaction: the first row of each (kind, tenant, id) is
   inserted into the raw tables; the rows that were new (``RETURNING``) are rolled up by SQL into
   series, buckets, bins and presence, with series ids computed in Python once per distinct
   series. Task facts, few and order-sensitive, are folded in Python by ``fold_task_facts``.

Whatever SQL finds plain, it reads exactly as Python would: ``tests/contract`` feeds the same
generated messages to this path and to the Python one (``services.ingest.messages``) and
compares every table.
"""
