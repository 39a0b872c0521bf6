import pytest

# The contract suite lives outside test_*.py modules so that every adapter can share it; keep its
# asserts as informative as those of test modules.
pytest.register_assert_rewrite("tests.contract.store_contract", "tests.support")
