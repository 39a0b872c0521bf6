"""One error tree: every coded refusal is a class of ``errors``, with its code and HTTP status."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from gql_analytics import errors
from gql_analytics.errors import GatewayError

PACKAGE = Path(errors.__file__).parent


def refusals() -> list[type[GatewayError]]:
    return [
        member
        for _, member in inspect.getmembers(errors, inspect.isclass)
        if issubclass(member, GatewayError)
    ]


def test_every_error_class_has_a_code_and_a_status_and_is_drawn_in_the_tree() -> None:
    tree = errors.__doc__ or ""
    for error in refusals():
        assert re.fullmatch(r"[A-Z_]+", error.code), error
        assert 200 <= error.status < 600, error
        assert re.search(rf"\b{error.__name__}\b", tree), f"{error.__name__} is not in the tree"
    own_codes = {e.code for e in refusals() if "code" in vars(e)}
    assert len(own_codes) == len([e for e in refusals() if "code" in vars(e)])  # no code twice


def test_no_coded_error_is_declared_outside_the_error_module() -> None:
    declared = re.compile(r"^\s+code = \"[A-Z_]+\"$", re.MULTILINE)
    elsewhere = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "errors.py" or path.parent != PACKAGE
        if declared.search(path.read_text())
    ]
    assert elsewhere == []
