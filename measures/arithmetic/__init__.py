"""The arithmetic of SPEC §3–4 as pure functions over plain values: no ORM, no Django.

`periods` (months, windows and their notation), `figures` (a figure for a period, changes,
comparisons, partial data), `formatting` (figures written as the seed writes them),
`significance` (is a change of counts real?), `spc` (XmR limits and run rules), `targets`
(red, amber or green against a target). Tested exhaustively with hypothesis; every page,
task and API answer uses these and nothing else for its arithmetic.
"""
