CREATE OR REPLACE TABLE __STAGED__ AS
WITH raw AS (
    -- one string for the whole batch: far cheaper to hand over than a list of strings
    SELECT unnest(string_split($texts, chr(30))) AS text, unnest(range($count)) AS seq,
        unnest($timestamps::BIGINT[]) AS ts
), parsed AS (
    SELECT seq, ts, CASE WHEN strlen(text) <= {max_plain_bytes}
        AND NOT regexp_matches(text, $suspicious) THEN try_cast(text AS JSON) END AS j
    FROM raw
), fields AS (
    SELECT seq, ts, j, json_keys(j) AS keys, json_type(j, {paths}) AS t,
        json_extract_string(j, {paths}) AS s,
        json_extract(j, ['$.tags', '$.payload', '$.properties']) AS o
    FROM parsed
), indexed AS (
    SELECT *,
        CASE WHEN t[1] IS NOT NULL THEN 1 WHEN t[2] IS NOT NULL THEN 2
            WHEN t[3] IS NOT NULL THEN 3 WHEN t[4] IS NOT NULL THEN 4 END AS shape,
        CASE WHEN t[5] <> 'NULL' THEN 5 WHEN t[6] <> 'NULL' THEN 6
            WHEN t[7] <> 'NULL' THEN 7 END AS id_at,
        CASE WHEN t[8] <> 'NULL' THEN 8 WHEN t[9] <> 'NULL' THEN 9
            WHEN t[10] <> 'NULL' THEN 10 END AS time_at
    FROM fields
), records AS (
    SELECT seq, keys, shape, t, s, o,
        CASE WHEN t[shape] = 'VARCHAR' THEN s[shape] END AS name,
        CASE shape WHEN 1 THEN NULL WHEN 2 THEN (CASE WHEN t[13] IS NOT NULL THEN 13
            WHEN t[19] IS NOT NULL THEN 19 ELSE 20 END) ELSE 12 END AS user_at,
        id_at IS NULL OR jtext(t[id_at], s[id_at]) IS NOT NULL AS good_id,
        coalesce(jtext(t[id_at], s[id_at]), default_id(seq, ts, $topics::VARCHAR[],
            $partitions::INTEGER[], $starts::INTEGER[], $first_offsets::BIGINT[],
            $offsets::BIGINT[])) AS id,
        coalesce(jtext(t[11], s[11]), $tenant) AS tenant,
        CASE WHEN time_at IS NULL THEN CASE WHEN ts >= 0 THEN make_timestamp(ts * 1000) END
            WHEN t[time_at] = 'VARCHAR' THEN iso_time(s[time_at])
            WHEN t[time_at] IN ('BIGINT', 'UBIGINT', 'DOUBLE')
                THEN epoch_time(s[time_at]::DOUBLE) END AS occurred_at,
        CASE shape WHEN 2 THEN coalesce(nullif(o[2], 'null'), '{{}}')
            WHEN 3 THEN coalesce(nullif(o[3], 'null'), '{{}}')
            WHEN 4 THEN json_merge_patch(j, '{flat_drop}') END AS properties,
        CASE WHEN t[15] IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN s[15]::DOUBLE END AS value
    FROM indexed
)
SELECT seq, CASE WHEN shape = 1 THEN 'metric' ELSE 'event' END AS kind,
    tenant, id, name, CASE WHEN shape <> 1 THEN jtext(t[user_at], s[user_at]) END AS user_id,
    occurred_at, CASE WHEN shape <> 1 THEN jtext(t[14], s[14]) END AS source,
    properties::JSON AS properties, value, coalesce(nullif(o[1], 'null'), '{{}}')::JSON AS tags,
    CASE WHEN abs(value) < $min_magnitude THEN 0
        ELSE sign(value)::INTEGER * ($bin_offset + least(ceil(ln(abs(value)) / $log_gamma),
            $max_key)::INTEGER) END AS bin,
    (shape IS NOT NULL
    AND len(keys) = len(list_distinct(keys))
    AND regexp_full_match(name, '{name_pattern}')
    AND good_id
    AND text_or_none(t[11], s[11])
    AND occurred_at <= $latest
    AND ($earliest IS NULL OR occurred_at >= $earliest)
    AND CASE WHEN shape = 1 THEN abs(value) <= {max_value} AND plain_tags(nullif(o[1], 'null'))
        ELSE text_or_none(t[user_at], s[user_at]) AND text_or_none(t[14], s[14])
            AND CASE shape WHEN 2 THEN coalesce(t[17] IN ('NULL', 'OBJECT'), true)
                WHEN 3 THEN coalesce(t[18] IN ('NULL', 'OBJECT'), true) ELSE true END
            AND (name NOT IN {task_names}
                OR has_task_id(json_type(properties, ['$.task_id', '$.taskId'])))
        END) IS TRUE AS ok
FROM records
