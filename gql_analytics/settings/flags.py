"""The settings as command-line flags, and as the README's configuration table."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping

from pydantic.fields import FieldInfo

from gql_analytics.settings import GROUPS, Settings, flag_of, variable_of


def _fields() -> Iterator[tuple[str, str, FieldInfo]]:
    """(group, field, declaration) of every setting, by group in the order they are declared."""
    for group in GROUPS:
        for field, info in Settings.model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get("group") == group:
                yield group, field, info


def _is_switch(info: FieldInfo) -> bool:
    return info.annotation is bool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """A flag for every setting; a flag not given leaves the setting to its variable."""
    for _, field, info in _fields():
        if _is_switch(info):
            parser.add_argument(
                flag_of(field),
                dest=field,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=info.description,
            )
        else:
            parser.add_argument(
                flag_of(field), dest=field, default=argparse.SUPPRESS, help=info.description
            )


def from_arguments(arguments: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """The settings of the flags given, else of ``env``'s variables (the environment's when
    None), else the defaults."""
    flags = {
        field: value for field, value in vars(arguments).items() if field in Settings.model_fields
    }
    return Settings.read(flags, env)


TABLE_MARK = "<!-- the table below is generated: make settings-table -->"


def _default(field: str, info: FieldInfo) -> str:
    value = info.default
    if field == "auth":
        return "`keys`"
    if value is None or value == ():
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`"
    return f"`{value}`"


def table() -> str:
    """The README's configuration table: each setting's group, flag, variable, default and
    meaning, from the declarations above (a test holds the README to it)."""
    rows = ["| group | flag | variable | default | what it is |", "|---|---|---|---|---|"]
    for group, field, info in _fields():
        flag = flag_of(field)
        if _is_switch(info):
            flag = "--[no-]" + flag.removeprefix("--")
        what = (info.description or "").replace("|", "\\|")
        rows.append(
            f"| {group} | `{flag}` | `{variable_of(field)}` | {_default(field, info)} | {what} |"
        )
    return "\n".join(rows) + "\n"


def with_table(readme: str) -> str:
    """``readme`` with the table after ``TABLE_MARK`` (up to the next blank line) made anew."""
    before, mark, after = readme.partition(TABLE_MARK + "\n")
    if not mark:
        raise ValueError(f"the README has no {TABLE_MARK!r}")
    _, blank, rest = after.partition("\n\n")
    return before + mark + table() + blank[:1] + rest if blank else before + mark + table()
