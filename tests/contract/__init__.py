import pytest

# The role contracts live outside test_*.py modules so that every adapter can share them; keep
# their asserts as informative as those of test modules.
pytest.register_assert_rewrite("tests.contract.roles")
