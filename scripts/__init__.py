"""Project scripts (importable so that tests can use their specification tables)."""
