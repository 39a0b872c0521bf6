import pytest

# Helpers shared by the tests live outside test_*.py modules; keep their asserts as informative
# as those of test modules (the role contracts register theirs in tests/contract).
pytest.register_assert_rewrite("tests.support")
