"""PostgreSQL's binary COPY format, read and written column-wise.

The engine reads the values and writes the derived figures in this format (`COPY … (FORMAT
binary)`): no text is formatted or parsed on either side. Values are read as fixed-width
rows straight into numpy; figures are written a group of rows at a time, each group sharing
which fields are NULL and how long each text is, so every group is one fixed-width numpy
record array (`figures_copy_data`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from measures.engine.columns import DIRECTIONS, OUT, SIGNALS, Figures, signal_text

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
TRAILER = b"\xff\xff"
PG_EPOCH_DAYS = 10_957  # 2000-01-01, PostgreSQL's epoch, in days after 1970-01-01
NUMERIC_NEGATIVE = 0x4000
FRACTION_DIGITS = 2  # base-10000 digits after the point: six decimal places (and two zeros)


def rows_read(data: bytes, fields: list[tuple[str, str]]) -> np.ndarray:
    """The rows of a binary COPY of NOT NULL fixed-width fields, as a record array whose
    fields are named as given (`fields`: name and big-endian numpy type)."""
    layout = [("count", ">i2")]
    for name, kind in fields:
        layout += [(f"{name}_length", ">i4"), (name, kind)]
    body = memoryview(data)[len(HEADER) : len(data) - len(TRAILER)]
    return np.frombuffer(body, dtype=np.dtype(layout))


def _numeric_digits(values: np.ndarray, integer_digits: int) -> np.ndarray:
    """PostgreSQL numeric's binary form of whole numbers of millionths: header (digit count,
    weight, sign, display scale 6) and base-10000 digits, one row per value."""
    magnitude = np.abs(values)
    whole, fraction = magnitude // OUT, magnitude % OUT
    count = integer_digits + FRACTION_DIGITS
    out = np.empty((len(values), 4 + count), dtype=">i2")
    out[:, 0] = count
    out[:, 1] = integer_digits - 1
    out[:, 2] = np.where(values < 0, NUMERIC_NEGATIVE, 0)
    out[:, 3] = 6
    for k in range(integer_digits):
        out[:, 4 + k] = (whole // 10 ** (4 * (integer_digits - 1 - k))) % 10_000
    out[:, 4 + integer_digits] = fraction // 100
    out[:, 5 + integer_digits] = (fraction % 100) * 100
    return out


def _integer_digits(values: np.ndarray, mask: np.ndarray | None) -> int:
    present = values if mask is None else values[mask]
    if not len(present):
        return 1
    largest = int(np.max(np.abs(present))) // OUT
    digits = 1
    while largest >= 10_000:
        largest //= 10_000
        digits += 1
    return digits


def figures_copy_data(
    figures: Figures,
    *,
    columns: list[tuple[str, str]],
    scope: str,
    computed_at_us: int,
) -> Iterator[memoryview]:
    """Yield the rows of `figures` in binary COPY format (between `HEADER` and `TRAILER`)
    for the table columns given as (name, kind); kinds are int8, int4, int2, numeric,
    bool, date, timestamptz and text."""
    count = len(figures)
    if not count:
        return
    fields: list[tuple[str, str, np.ndarray, np.ndarray | None]] = []
    for name, kind in columns:
        if name == "measure_id":
            fields.append((name, kind, figures.measure, None))
        elif name == "area_id":
            fields.append((name, kind, figures.area, None))
        elif name == "scope":
            fields.append((name, kind, np.zeros(count, dtype=np.int64), None))
        elif name == "month":
            days = _month_days(figures.month)
            fields.append((name, kind, days, None))
        elif name == "month_index":
            fields.append((name, kind, figures.month, None))
        elif name == "computed_at":
            fields.append((name, kind, np.full(count, computed_at_us, dtype=np.int64), None))
        else:
            values, mask = figures.columns[name]
            fields.append((name, kind, values, mask))

    texts = {
        name: _texts("direction" if name.endswith("direction") else "signals")
        for name, kind, _, _ in fields
        if kind == "text" and name != "scope"
    }
    # Rows are grouped by their layout: which fields are NULL, and each text's length.
    key = np.zeros(count, dtype=np.int64)
    text_lengths = {}
    for name, _, values, mask in fields:
        if name in texts:
            lengths = texts[name][1][values]
            text_lengths[name] = lengths
            key = key * 64 + lengths + 1
        elif mask is not None:
            key = key * 2 + mask.astype(np.int64)
    groups, group_of = np.unique(key, return_inverse=True)
    order = np.argsort(group_of, kind="stable")
    bounds = np.searchsorted(group_of[order], np.arange(len(groups) + 1))
    integer_digits = {
        name: _integer_digits(values, mask)
        for name, kind, values, mask in fields
        if kind == "numeric"
    }
    for g in range(len(groups)):
        rows = order[bounds[g] : bounds[g + 1]]
        first = rows[0]
        layout: list[tuple] = [("count", ">i2")]
        fill: list[tuple[str, np.ndarray | int]] = [("count", len(fields))]
        for i, (name, kind, values, mask) in enumerate(fields):
            length = f"l{i}"
            layout.append((length, ">i4"))
            if mask is not None and not mask[first]:
                fill.append((length, -1))
                continue
            if name == "scope":
                layout.append((f"f{i}", f"S{len(scope.encode())}"))
                fill += [(length, len(scope.encode())), (f"f{i}", np.bytes_(scope.encode()))]  # type: ignore[list-item]
                continue
            if kind == "text":
                size = int(text_lengths[name][first])
                fill.append((length, size))
                if size > 0:
                    layout.append((f"f{i}", f"S{size}"))
                    fill.append((f"f{i}", texts[name][0][values[rows]]))
                continue
            part = values[rows]
            if kind == "numeric":
                digits = integer_digits[name]
                layout.append((f"f{i}", ">i2", (4 + digits + FRACTION_DIGITS,)))
                fill.append((length, 2 * (4 + digits + FRACTION_DIGITS)))
                fill.append((f"f{i}", _numeric_digits(part, digits)))
                continue
            dtype = {
                "int8": ">i8",
                "int4": ">i4",
                "int2": ">i2",
                "bool": "u1",
                "date": ">i4",
                "timestamptz": ">i8",
            }[kind]
            layout.append((f"f{i}", dtype))
            fill.append((length, np.dtype(dtype).itemsize))
            fill.append((f"f{i}", part.astype(np.int64) if kind != "bool" else part))
        record = np.empty(len(rows), dtype=np.dtype(layout))
        for name, value in fill:
            record[name] = value
        yield record.view(np.uint8).data  # the record's bytes, not copied


@functools.cache
def _texts(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Each code's text as bytes, and its length: -1 (NULL) for a direction's code 0, no
    direction. Built once, not per batch."""
    if kind == "direction":
        texts = np.array([(d or "").encode() for d in DIRECTIONS])
        lengths = np.char.str_len(texts)
        lengths[0] = -1
    else:
        texts = np.array([signal_text(code).encode() for code in range(2 ** len(SIGNALS))])
        lengths = np.char.str_len(texts)
    return texts, lengths


def _month_days(month: np.ndarray) -> np.ndarray:
    """Days since 2000-01-01 of each month index's first day."""
    since_1970 = (month - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    return since_1970.astype(np.int64) - PG_EPOCH_DAYS


__all__ = ["HEADER", "TRAILER", "figures_copy_data", "rows_read"]
