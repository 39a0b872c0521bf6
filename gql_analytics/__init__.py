"""gql-analytics: a GraphQL analytics gateway."""

__version__ = "0.1.0"
