-- validation.text on a JSON value given as its type and its text: a string of 1-{max_text}
-- characters (printable ones: SUSPICIOUS sends the messages that may hold others to Python),
-- or an integer as its digits
CREATE OR REPLACE TEMP MACRO jtext(t, s) AS CASE t
    WHEN 'VARCHAR' THEN CASE WHEN length(s) BETWEEN 1 AND {max_text} THEN s END
    WHEN 'BIGINT' THEN s WHEN 'UBIGINT' THEN s END;
-- a message's id when it has none: topic:partition:offset@timestamp (the batch's partitions
-- are contiguous runs of seq, starting at $starts)
CREATE OR REPLACE TEMP MACRO segment(seq, starts) AS len(list_filter(starts, lambda x: x <= seq));
CREATE OR REPLACE TEMP MACRO default_id(seq, ts, topics, partitions, starts, first_offsets,
        offsets) AS
    topics[segment(seq, starts)] || ':' || partitions[segment(seq, starts)] || ':' ||
    CASE WHEN len(offsets) = 0
        THEN first_offsets[segment(seq, starts)] + seq - starts[segment(seq, starts)]
        ELSE offsets[seq + 1] END || '@' || ts;
-- absent, JSON null, or a good text
CREATE OR REPLACE TEMP MACRO text_or_none(t, s) AS t IS NULL OR t = 'NULL'
    OR jtext(t, s) IS NOT NULL;
CREATE OR REPLACE TEMP MACRO iso_time(t) AS CASE WHEN regexp_full_match(t, '{iso_time}') THEN
    CASE WHEN regexp_matches(t, '(Z|[+-]\d\d:\d\d)$')
        THEN make_timestamp(epoch_us(try_cast(t AS TIMESTAMPTZ)))
        ELSE try_cast(t AS TIMESTAMP) END END;
-- normalize._timestamp on a non-negative epoch number (above 1e11: milliseconds), rounded to the
-- microsecond as datetime.fromtimestamp rounds: whole seconds, then the fraction half-to-even.
CREATE OR REPLACE TEMP MACRO seconds(x) AS CASE WHEN x > 1e11 THEN x / 1000 ELSE x END;
CREATE OR REPLACE TEMP MACRO epoch_time(x) AS CASE WHEN x >= 0 AND x < 1e15 THEN
    make_timestamp(trunc(seconds(x))::BIGINT * 1000000
        + round_even((seconds(x) - trunc(seconds(x))) * 1e6, 0)::BIGINT) END;
CREATE OR REPLACE TEMP MACRO plain_tags(tags) AS tags IS NULL OR (json_type(tags) = 'OBJECT'
    AND len(json_keys(tags)) <= {max_tags}
    AND len(json_keys(tags)) = len(list_distinct(json_keys(tags)))
    AND coalesce(list_bool_and(list_transform(json_keys(tags),
        lambda k: regexp_full_match(k, '{name_pattern}'))), true)
    AND coalesce(list_bool_and(list_transform(json_extract(tags, '$.*'),
        lambda v: json_type(v) = 'VARCHAR' AND length(v->>'$') <= {max_text})), true));
-- a task event's task id: properties.get("task_id", properties.get("taskId")) is not None
CREATE OR REPLACE TEMP MACRO has_task_id(tt) AS
    CASE WHEN tt[1] IS NOT NULL THEN tt[1] <> 'NULL' ELSE coalesce(tt[2] <> 'NULL', false) END;
