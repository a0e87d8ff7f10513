"""The derived-figures engine (SPEC §6): what keeps the materialised figures current.

`derived` reads the values, has `columns` compute every derived row (rolling 12 months, year
to date, SPC, plan baseline) column-wise with numpy in exact whole numbers, and writes them
by binary COPY (`binary`) or a merge; `marks` records that a measure's figures are stale, in
the transaction that made them so, and enqueues the recompute after commit; `tasks` are the
Celery tasks; `recompute` runs a recompute, clears its marks and records the outcome;
`fingerprints` says which measures' inputs changed since their figures were computed, so
that a run over every measure (the nightly one) recomputes only those.

Imports run one way: marks -> tasks -> recompute -> fingerprints -> derived -> binary ->
columns.
"""
