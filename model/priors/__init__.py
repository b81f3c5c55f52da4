"""Priors files: the schema, loading with inheritance and located errors, writing TOML."""
