"""One contract per role of the ``Store`` port (``gql_analytics/ports/store.py``): a class of
tests, each taking a ``store`` fixture typed as what it uses (the role, and the record writer
that puts in what it reads). Every adapter's test module runs every contract on every variant
of its store (``tests/contract/test_*_store.py``; ``test_roles.py`` holds them to it)."""
