"""Load the pipeline's .sql files and render their ``${name}`` placeholders.

This is the one place where SQL text is assembled: every stage file is a template whose
placeholders are filled from a mapping of ready-made SQL fragments (see :mod:`flink_jobs.params`),
then split into statements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SqlTemplateError", "Statement", "load_statements", "render_sql", "split_statements"]

_PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")


class SqlTemplateError(ValueError):
    """A template that cannot be rendered: the message names the file and the placeholder."""


@dataclass(frozen=True)
class Statement:
    """One rendered SQL statement and where it came from."""

    source: str
    index: int
    text: str

    @property
    def is_insert(self) -> bool:
        # A statement may open with comments that explain it.
        return next(_code_lines(self.text), "").upper().startswith("INSERT")

    @property
    def name(self) -> str:
        """A readable name for the Flink web UI, e.g. ``20_validate_pings#2``."""
        return f"{self.source}#{self.index}"


def render_sql(template: str, params: Mapping[str, str], *, source: str = "<sql>") -> str:
    """Replace every ``${name}`` in ``template`` with ``params[name]``.

    Parameters
    ----------
    template : str
        SQL text with ``${name}`` placeholders (JSON paths such as ``'$.ts'`` are left alone).
    params : mapping of str to str
        Ready-made SQL fragments by placeholder name.
    source : str
        Name of the template, for error messages.

    Returns
    -------
    str
        The rendered SQL; a placeholder without a value raises :class:`SqlTemplateError`.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            line = template.count("\n", 0, match.start()) + 1
            raise SqlTemplateError(f"{source}:{line}: no value for placeholder ${{{name}}}")
        return params[name]

    return _PLACEHOLDER.sub(substitute, template)


def split_statements(sql: str) -> list[str]:
    """Split SQL text on semicolons outside quotes and comments; drop empty statements."""
    statements: list[str] = []
    current: list[str] = []
    index = 0
    quote: str | None = None
    while index < len(sql):
        char = sql[index]
        if quote is not None:
            current.append(char)
            if char == quote:
                quote = None
        elif char in ("'", "`", '"'):
            quote = char
            current.append(char)
        elif sql.startswith("--", index):
            end = sql.find("\n", index)
            end = len(sql) if end < 0 else end
            current.append(sql[index:end])
            index = end
            continue
        elif char == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    statements.append("".join(current))
    return [text.strip() for text in statements if _has_code(text)]


def _code_lines(text: str) -> Iterator[str]:
    """The stripped lines of the text that are neither blank nor ``--`` comments."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            yield stripped


def _has_code(text: str) -> bool:
    """True when the text holds more than whitespace and ``--`` comments."""
    return any(_code_lines(text))


def load_statements(paths: Iterable[Path], params: Mapping[str, str]) -> list[Statement]:
    """Render each file and split it into statements, in the given order."""
    statements: list[Statement] = []
    for path in paths:
        try:
            template = path.read_text(encoding="utf-8")
        except OSError as error:
            raise SqlTemplateError(f"cannot read SQL file {path}: {error}") from error
        rendered = render_sql(template, params, source=path.name)
        statements.extend(
            Statement(source=path.stem, index=number, text=text)
            for number, text in enumerate(split_statements(rendered), start=1)
        )
    return statements
