"""The validated, typed spec: pydantic models, and the builder that makes them from the AST."""
