"""Who is calling: API keys and their roles, and what each role may do."""
