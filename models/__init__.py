"""The shipped default model; installed as ``declutter.models`` (see pyproject.toml)."""
