"""A document may define a bounded number of operations (one of them runs, chosen by
``operationName``); each costs parsing and validation, so a document of thousands is refused."""

from __future__ import annotations

from graphql import GraphQLError, OperationDefinitionNode, ValidationContext, ValidationRule


def most_operations(limit: int) -> type[ValidationRule]:
    class MostOperations(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            count = sum(
                isinstance(definition, OperationDefinitionNode)
                for definition in context.document.definitions
            )
            if count > limit:
                context.report_error(
                    GraphQLError(
                        f"{count} operations in one document; at most {limit} (one of them runs)"
                    )
                )

    return MostOperations
