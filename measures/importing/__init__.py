"""Imports (SPEC §8): value files, plan definitions and Key Headlines.

`rules` (what a cell and a header must be: shared by both value paths), `files` (reading CSV,
XLSX, YAML and JSON), `values` (the row-by-row value import, the authority on what a file
means), `values_copy` (the fast path on PostgreSQL: COPY into a staging table, checked in
SQL), `plan` and `headlines`. Every write goes through the returns' services for its audit.
"""
