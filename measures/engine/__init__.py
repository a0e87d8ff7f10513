"""The derived-figures engine (SPEC §6): what keeps the materialised figures current.

`derived` reads the values, has `columns` compute every derived row (rolling 12 months, year
to date, SPC, plan baseline) column-wise with numpy in exact whole numbers, and writes them
by binary COPY (`binary`) or a merge; `marks` records that a measure's figures are stale, in
the transaction that made them so, and enqueues the recompute after commit; `tasks` are the
Celery tasks; `recompute` runs a recompute, clears its marks and records the outcome;
`changes` installs the triggers with which the database logs every change of values, series
by series, and takes a recompute's entries of that log; `fingerprints` says which measures'
other inputs changed since their figures were computed; so a run recomputes only what
changed — the series whose values changed, every series of a measure whose definition did —
reading no values to find out.

Imports run one way: marks -> tasks -> recompute -> changes, fingerprints -> derived ->
binary -> columns.
"""
