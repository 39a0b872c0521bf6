"""The GraphQL API: Strawberry types, resolvers and the schema."""
