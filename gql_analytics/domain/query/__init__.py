"""Questions asked of records: measures by dimensions, filtered, over a range, and how a set of records
answers one (pure: a store may answer in its own language and is held to the same result)."""
