"""The domain: records, validation, normalization, time buckets, sketches and rollups. No I/O."""
