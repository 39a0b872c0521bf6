"""``DuckDBStore``'s answers to questions, from a scan of the raw records (``questions.py``)."""

from __future__ import annotations

from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.questions import compile_question
from gql_analytics.adapters.duckdb.values import aware
from gql_analytics.domain.query.question import Cell, Question


class QuestionReads(Database):
    """``QuestionReader``."""

    async def answer(self, question: Question) -> list[Cell]:
        statements = compile_question(question)
        width = len(question.dimensions)

        def read() -> list[Cell]:
            rows = self.rows(statements.cells, statements.params)
            cells = [
                Cell(tuple(row[3 : 3 + width]), aware(row[2]), tuple(row[3 + width :]))
                for row in rows
            ]
            groups = rows[0][1] if rows else 0
            if statements.other is not None and groups > question.limit:
                rest = self.rows(statements.other, statements.other_params)
                blank = tuple(None for _ in range(width))
                other = [Cell(blank, aware(row[0]), tuple(row[1:]), other=True) for row in rest]
                whole = [c for c in cells if c.bucket is None] + other[:1]
                cells = whole + [c for c in cells if c.bucket is not None] + other[1:]
            return cells

        return await self._run(read)
