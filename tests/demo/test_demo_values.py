"""The demo data set, measures/demo/values.csv, holds what its generator promises.

scripts/make_demo_values.py writes the file from its specification tables (COUNTS, RATIOS,
…); these tests read the committed file back and assert every row, every constraint window,
every headline claim and every figure of the seed's tables, and that the script still
writes exactly that file. No database is needed.
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from scripts.make_demo_values import (
    CJS_LATEST,
    CJS_PREVIOUS,
    COUNTS,
    DISTRICTS,
    DIVISIONS,
    FORCE,
    HEADER,
    HOMICIDE_PROFILE,
    HOMICIDE_PROFILE_WINDOW,
    NATIONAL,
    PLAN_FILE,
    RATIOS,
    REPORTING_MONTH,
    SCORECARD_PREVIOUS,
    SCORECARD_QUARTER,
    SCORECARD_VALUES,
    SPLITS,
    VALUES_FILE,
    build_rows,
    calendar_year,
    fytd,
    label,
    month,
    months,
    percent,
    quarter,
    window_total,
    write_rows,
)

# Series not in the plan: denominators of ratio measures.
HELPER_SERIES = {
    "victims-surveyed",
    "da-victims-surveyed",
    "ksi-collisions",
    "injury-collisions",
    "hate-crimes",
    "calls-101-switchboard",
}

# The one printed change of the seed's tables that its own figures do not give: 34 -> 44
# is +29.4 %, printed +30 %. The data reproduces the seed's totals, so it keeps the slip.
KNOWN_SEED_SLIPS = ["YTD robbery-business 2021: printed +30%, computed +29%"]


# --- values.csv read back -----------------------------------------------------------------


class Dataset:
    """values.csv (or a copy of it) read back, with SPEC §4 figures for the force."""

    def __init__(self, plan: dict, path: Path = VALUES_FILE) -> None:
        self.measures = {m["code"]: m for p in plan["priorities"] for m in p["measures"]}
        self.areas = {a["code"] for a in plan["areas"]}
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            assert reader.fieldnames == HEADER, reader.fieldnames
            self.rows = list(reader)
        self.by_key: dict[tuple[str, str, str], dict[str, str]] = {}
        self.by_series: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
        for row in self.rows:
            key = (row["measure"], row["area"], row["period"])
            assert key not in self.by_key, f"duplicate value {key}"
            self.by_key[key] = row
            self.by_series[key[:2]].append(row)

    def monthly(self, code: str, area: str = FORCE, part: str = "value") -> dict[int, int]:
        if code in HELPER_SERIES:  # a denominator that is not itself a measure
            ratio = next(c for c, r in RATIOS.items() if r.denominator == code)
            return self.monthly(ratio, area, "denominator")
        return {
            month(r["period"]): int(r[part])
            for r in self.by_series.get((code, area), [])
            if "/" not in r["period"]
        }

    def total(self, code: str, window: str, area: str = FORCE) -> int:
        return window_total(self.monthly(code, area), window)

    def ratio(self, code: str, window: str) -> Fraction:
        """Return Σnumerator / Σdenominator × 100 over the window (exact)."""
        num = window_total(self.monthly(code, part="numerator"), window)
        den = window_total(self.monthly(code, part="denominator"), window)
        return Fraction(num * 100, den)

    def figure(self, code: str, window: str) -> Fraction:
        if self.measures[code]["aggregation"] == "ratio":
            return self.ratio(code, window)
        return Fraction(self.total(code, window))

    def stored(self, code: str, area: str, period: str) -> Decimal:
        return Decimal(self.by_key[(code, area, period)]["value"])


def check_rows(data: Dataset) -> None:
    """Assert every row is well formed, and every monthly series is whole and up to date."""
    last = month(REPORTING_MONTH)
    for row in data.rows:
        measure = data.measures[row["measure"]]
        assert row["area"] in data.areas, row
        assert row["source"] == measure["source"], row
        assert row["period"] == "/".join(label(month(p)) for p in row["period"].split("/")), row
        value = Decimal(row["value"])
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int) and -exponent == measure["decimals"], row
        assert value >= 0, row
        if measure["aggregation"] == "ratio":
            num, den = int(row["numerator"]), int(row["denominator"])
            assert 0 <= num <= den and den > 0, row
            assert row["value"] == percent(num, den, measure["decimals"]), row
        else:
            assert row["numerator"] == row["denominator"] == "", row
    for code, measure in data.measures.items():
        assert any(r["measure"] == code for r in data.rows), f"no values for {code}"
        for area in data.areas:
            part = "denominator" if measure["aggregation"] == "ratio" else "value"
            series = data.monthly(code, area, part)
            if not series:
                continue
            assert measure["frequency"] == "monthly", code
            assert sorted(series) == list(range(min(series), max(series) + 1)), (code, area)
            assert max(series) == last - measure["data_lag_months"], (code, area)


def check_constraints(data: Dataset) -> None:
    """Assert every window total and exact rate of the constraint tables."""
    for code, spec in COUNTS.items():
        series = data.monthly(code)
        for window, total in spec.constraints().items():
            assert window_total(series, window) == total, (code, window, total)
        lo_code, hi_code = spec.not_below, spec.not_above
        for m, v in series.items():
            if hi_code:
                assert v <= data.monthly(hi_code)[m], (code, label(m))
            if lo_code:
                assert v >= data.monthly(lo_code)[m], (code, label(m))
    for code, ratio_spec in RATIOS.items():
        den = data.monthly(code, part="denominator")
        if ratio_spec.denominator not in HELPER_SERIES:
            assert den == data.monthly(ratio_spec.denominator), f"{code} denominator"
        for window, pct in {**ratio_spec.demo, **ratio_spec.seed}.items():
            assert data.ratio(code, window) == Fraction(pct), (code, window, pct)
        for window, n in ratio_spec.numerators.items():
            assert window_total(data.monthly(code, part="numerator"), window) == n, (code, window)
        if ratio_spec.not_above:
            above = data.monthly(ratio_spec.not_above, part="numerator")
            for m, n in data.monthly(code, part="numerator").items():
                assert n <= above[m], (code, label(m))
    for code in [*SPLITS, "homicides"]:
        for m, force_value in data.monthly(code).items():
            where = f"{code} {label(m)}"
            divisions = sum(data.monthly(code, div)[m] for div in DIVISIONS)
            assert divisions == force_value, f"{where}: divisions do not sum to the force"
            for div in DIVISIONS:
                districts = [d for d, (dv, _) in DISTRICTS.items() if dv == div]
                in_districts = sum(data.monthly(code, d)[m] for d in districts)
                assert in_districts == data.monthly(code, div)[m], (
                    f"{where}: districts do not sum to {div}"
                )


def check_headlines(data: Dataset) -> None:
    """Assert the Key Headlines' claims that the data can show."""

    def claim(text: str, holds: bool) -> None:
        assert holds, f"headline claim fails: {text}"

    def m(code: str, period: str, area: str = FORCE) -> int:
        return data.monthly(code, area)[month(period)]

    def rate(code: str, period: str) -> Fraction:
        return data.ratio(code, period)

    def change_pct(base: int, current: int) -> float:
        return (current - base) / base * 100

    years = [data.total("homicides", calendar_year(y)) for y in range(2019, 2023)]
    claim(
        "homicides fall year on year 2019 > 2020 > 2021 > 2022",
        all(a > b for a, b in itertools.pairwise(years)),
    )
    profile = {d: data.total("homicides", HOMICIDE_PROFILE_WINDOW, d) for d in DISTRICTS}
    claim(
        "homicides Apr 2019-Mar 2022: Blackpool 13, Lancaster 9, the most of any district",
        profile["blackpool"] == 13
        and profile["lancaster"] == 9
        and max(v for d, v in profile.items() if d not in HOMICIDE_PROFILE) < 9,
    )
    ed = [data.total("ed-knife-assaults", f"{y - 1}-12/{y}-11") for y in range(2019, 2023)]
    claim(
        "ED knife assaults: 12-month totals to November decrease every year",
        all(a > b for a, b in itertools.pairwise(ed)),
    )
    cyber = [data.total("cyber-crime", calendar_year(y)) for y in range(2018, 2023)]
    claim(
        "cyber crime: a continued increase, every calendar year",
        all(a < b for a, b in itertools.pairwise(cyber)),
    )
    fall = -change_pct(data.total("all-crime", fytd(2019)), data.total("all-crime", fytd(2022)))
    claim("all crime Apr-Dec 2022 'almost 8%' below Apr-Dec 2019", 7.5 < fall < 8)
    dec = rate("all-crime-outcome-rate", "2022-12")
    claim(
        "all crime outcomes Dec 2022 = 13.64%, highest since May 2020",
        dec == Fraction("13.64")
        and rate("all-crime-outcome-rate", "2020-05") >= dec
        and all(rate("all-crime-outcome-rate", label(x)) < dec for x in months("2020-06/2022-11")),
    )

    q4 = {y: data.total("calls-999", quarter(y, 4)) for y in (2019, 2021, 2022)}
    claim(
        "999 calls Oct-Dec 2022 +6% on 2019 and +4% on 2021",
        round(change_pct(q4[2019], q4[2022]), 1) == 6.0
        and round(change_pct(q4[2021], q4[2022]), 1) == 4.0,
    )
    presented = {
        x: m("calls-999", label(x)) + m("calls-101", label(x)) for x in months("2022-06/2022-12")
    }
    claim(
        "calls presented decreased slightly since the summer months",
        sum(presented[x] for x in months("2022-10/2022-12")) / 3
        < sum(presented[x] for x in months("2022-06/2022-08")) / 3,
    )
    q4_101 = data.total("calls-101", quarter(2022, 4))
    claim(
        "101 calls Oct-Dec 2022 considerably lower than Oct-Dec of 2019-2021",
        all(q4_101 < 0.85 * data.total("calls-101", quarter(y, 4)) for y in (2019, 2020, 2021)),
    )
    digital = data.monthly("digital-demand")
    claim(
        "digital demand all-time peak in August 2022, decreasing since October",
        max(digital, key=lambda x: digital[x]) == month("2022-08")
        and all(digital[x] > digital[x + 1] for x in months("2022-10/2022-11")),
    )
    levels = [rate("999-service-level", f"2022-{x}") for x in ("09", "10", "11", "12")]
    claim(
        "999 service level 60.0% in Sep 2022, improving each month to 91.5% in Dec",
        levels[0] == 60
        and levels[-1] == Fraction("91.5")
        and all(a < b for a, b in itertools.pairwise(levels)),
    )
    claim(
        "101 abandonment Oct-Dec 2022 one point up on Jul-Sep 2022",
        rate("101-abandonment-rate", quarter(2022, 4))
        - rate("101-abandonment-rate", quarter(2022, 3))
        == 1,
    )
    claim(
        "101 switchboard abandonment 3% Oct-Dec 2022, up from 2% in Jul-Sep 2022",
        rate("101-switchboard-abandonment-rate", quarter(2022, 4)) == 3
        and rate("101-switchboard-abandonment-rate", quarter(2022, 3)) == 2,
    )
    claim(
        "101 switchboard hours take part of the 101 calls presented, every month",
        all(
            0 < n < data.monthly("calls-101")[x]
            for x, n in data.monthly("calls-101-switchboard").items()
        ),
    )
    claim(
        "Personal Robbery and Hate Crime outcomes both exceeding 20% in December 2022, and in "
        "no month of the two years before",
        all(
            rate(code, "2022-12") > 20
            and all(rate(code, label(x)) < 20 for x in months("2021-01/2022-11"))
            for code in ("personal-robbery-outcome-rate", "hate-crime-outcome-rate")
        ),
    )

    claim(
        "ASB: every district lower Apr-Dec 2022 than Apr-Dec 2021",
        all(
            data.total("asb-incidents", fytd(2022), d) < data.total("asb-incidents", fytd(2021), d)
            for d in DISTRICTS
        ),
    )
    claim(
        "ASB Oct-Dec 2022 each month just below (within 5% of) the same month of 2019",
        all(
            0.95 * m("asb-incidents", f"2019-{x}")
            < m("asb-incidents", f"2022-{x}")
            < m("asb-incidents", f"2019-{x}")
            for x in ("10", "11", "12")
        ),
    )

    da = data.monthly("da-crime")
    claim(
        "DA crime peaked in August 2022 and fell every month since",
        max((da[x], x) for x in months("2022-01/2022-12"))[1] == month("2022-08")
        and all(da[x] > da[x + 1] for x in months("2022-08/2022-11")),
    )
    claim(
        "DA crime Nov and Dec 2022 the lowest months since late 2020",
        all(
            da[x] > max(da[month("2022-11")], da[month("2022-12")])
            for x in months("2021-01/2022-10")
        )
        and min(da[x] for x in months("2020-09/2020-12")) < da[month("2022-12")],
    )
    below = sum(da[x] < da[x - 12] for x in months("2022-04/2022-12"))
    claim(f"DA crime below 2021/22 in most months of 2022/23 ({below} of 9)", below >= 7)
    claim(
        "DVPN and DVPO: every 2021 month under 6",
        all(m(c, label(x)) < 6 for c in ("dvpn", "dvpo") for x in months(calendar_year(2021))),
    )

    burglary = data.monthly("burglary-residential")
    claim(
        "residential burglary Dec 2022 the lowest month since January 2018",
        all(burglary[x] > burglary[month("2022-12")] for x in months("2018-01/2022-11")),
    )
    east = {
        x: m("burglary-residential", label(x), "lancs-east") for x in months("2022-04/2022-12")
    }
    earlier = [east[x] for x in months("2022-04/2022-10")]
    claim(
        "residential burglary: East division notable increase in Nov 2022, Dec comparable",
        east[month("2022-11")] >= 1.25 * sum(earlier) / len(earlier)
        and abs(east[month("2022-12")] / (sum(earlier) / len(earlier)) - 1) <= 0.15,
    )
    for code in (
        "burglary-business-community",
        "burglary-residential",
        "robbery-personal",
        "robbery-business",
    ):
        now, last_year, before = (data.total(code, fytd(y)) for y in (2022, 2021, 2019))
        claim(
            f"{code}: Apr-Dec 2022 {'above' if now > last_year else 'below'} 2021, below 2019",
            (now > last_year) == (code == "robbery-business") and now < before,
        )

    tors = [data.total("officer-issued-tors", calendar_year(y)) for y in (2021, 2022)]
    claim(
        "officer-issued TORs 2022 just under 2,000 above 2021 (+40%)",
        1900 < tors[1] - tors[0] < 2000 and round(change_pct(*tors)) == 40,
    )
    claim(
        "Operation Limit's 963 TORs fit within Nov-Dec 2022",
        m("officer-issued-tors", "2022-11") + m("officer-issued-tors", "2022-12") > 963,
    )
    for code, shown in (("impairment-ksi-rate", "20.5"), ("impairment-injury-rate", "13.2")):
        monthly = {x: rate(code, label(x)) for x in months("2018-01/2022-12")}
        claim(
            f"{code}: Dec 2022 {shown}%, the highest on record",
            data.by_key[(code, FORCE, "2022-12")]["value"] == shown
            and max(monthly, key=lambda x: monthly[x]) == month("2022-12"),
        )
    claim(
        "impairment-ksi-rate Dec 2021 10.8%",
        data.by_key[("impairment-ksi-rate", FORCE, "2021-12")]["value"] == "10.8",
    )
    injury_linked = data.monthly("impairment-injury-rate", part="numerator")
    ksi_linked = data.monthly("impairment-ksi-rate", part="numerator")
    for x in months("2018-01/2022-12"):
        assert m("neighbourhood-crime", label(x)) > (
            m("burglary-residential", label(x)) + m("robbery-personal", label(x))
        )
        assert m("all-crime", label(x)) > (
            m("neighbourhood-crime", label(x))
            + m("da-crime", label(x))
            + m("burglary-business-community", label(x))
            + m("robbery-business", label(x))
        )
        assert m("all-crime", label(x)) > m("cyber-crime", label(x))
        assert injury_linked[x] >= ksi_linked[x]

    def cjs(code: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """Return Lancashire's latest and previous release, then the national ones."""
        return (
            data.stored(code, FORCE, CJS_LATEST),
            data.stored(code, FORCE, CJS_PREVIOUS),
            data.stored(code, NATIONAL, CJS_LATEST),
            data.stored(code, NATIONAL, CJS_PREVIOUS),
        )

    latest, previous, national, national_previous = cjs("cjs-all-investigation-days")
    claim(
        "CJS all crime: national timeliness worse; Lancashire 47 days, 11 below national",
        national > national_previous and latest == 47 and latest - national == -11,
    )
    latest, previous, national, _ = cjs("cjs-all-cps-charge-days")
    claim(
        "CJS all crime: CPS charge 44 days, +3, equal to national",
        (latest, previous, national) == (44, 41, 44),
    )
    latest, previous, national, _ = cjs("cjs-all-crown-court-days")
    claim(
        "CJS all crime: Crown Court days -12, 5 below national",
        latest - previous == -12 and latest - national == -5,
    )
    latest, previous, national, _ = cjs("cjs-all-positive-outcome-rate")
    claim(
        "CJS all crime: positive outcomes up slightly, 9% as national",
        latest == national == 9 and previous < latest,
    )
    latest, previous, national, _ = cjs("cjs-all-victim-not-supporting")
    claim(
        "CJS all crime: victim does not support +1 point, 7 points above national",
        latest - previous == 1 and latest - national == 7,
    )
    latest, previous, national, _ = cjs("cjs-rape-investigation-days")
    claim("CJS adult rape: investigation 145 days faster than national", latest - national == -145)
    latest, previous, national, _ = cjs("cjs-rape-positive-outcome-rate")
    claim("CJS adult rape: positive outcome rate equal to national", latest == national)
    latest, previous, national, _ = cjs("cjs-rape-cps-charge-days")
    claim("CJS adult rape: CPS charge 23 days faster than national", latest - national == -23)
    latest, previous, national, _ = cjs("cjs-rape-crown-court-days")
    claim(
        "CJS adult rape: Crown Court 390 days (386 previous), national 363",
        (latest, previous, national) == (390, 386, 363),
    )
    latest, previous, national, _ = cjs("cjs-rape-victim-not-supporting")
    claim(
        "CJS adult rape: victim does not support 3 points below national, +2 since last",
        latest - national == -3 and latest - previous == 2,
    )
    latest, previous, national, _ = cjs("cjs-rape-suspects-referred")
    claim(
        "CJS adult rape: suspects referred up, ahead of 2016 levels",
        previous < latest > data.stored("cjs-rape-suspects-referred", FORCE, "2016-01/2016-12"),
    )
    latest, previous, national, _ = cjs("cjs-rape-trial-or-plea")
    claim(
        "CJS adult rape: completed trial or guilty plea 91% (increasing) vs national 87%",
        (latest, national) == (91, 87) and latest > previous,
    )
    parts = ("disruptions-major", "disruptions-moderate", "disruptions-minor", "disruptions-none")
    for period in (SCORECARD_PREVIOUS, SCORECARD_QUARTER):
        assert sum(data.stored(p, FORCE, period) for p in parts) == data.stored(
            "disruptions-total", FORCE, period
        )
        assert data.stored("charges", FORCE, period) <= data.stored("arrests", FORCE, period)


# --- The seed's tables, recomputed by SPEC §4 ---------------------------------------------

# measure, base window, current window, printed base, printed current, printed change
NATIONAL_PICTURE = [
    ("homicides", "2020-01/2020-12", "2022-01/2022-12", "23", "14", "-39%"),
    ("firearms-offences", "2019-10/2020-09", "2021-10/2022-09", "44", "79", "+79.5%"),
    ("firearms-discharges", "2019-10/2020-09", "2021-10/2022-09", "7", "8", "+14.3%"),
    ("ed-knife-assaults", "2019-12/2020-11", "2021-12/2022-11", "110", "87", "-20.9%"),
    ("neighbourhood-crime", "2020-01/2020-12", "2022-01/2022-12", "16,127", "15,627", "-3.1%"),
    ("victim-satisfaction", "2020-01/2020-12", "2022-01/2022-12", "69.8%", "70.2%", "+0.4%"),
    ("da-victim-satisfaction", "2020-01/2020-12", "2022-01/2022-12", "85.3%", "82.5%", "-2.8%"),
    ("cyber-crime", "2020-01/2020-12", "2022-01/2022-12", "5,744", "6,014", "+4.7%"),
]
# measure -> printed totals and changes for 1 April – 31 December 2019, 2020, 2021, 2022
YTD_TABLES = {
    "all-crime": (("109,228", "90,610", "103,809", "100,655"), ("-17%", "+15%", "-3%")),
    "asb-incidents": (("43,375", "72,954", "53,580", "43,062"), ("+68%", "-27%", "-20%")),
    "da-crime": (("16,353", "17,765", "19,738", "18,659"), ("+9%", "+11%", "-5%")),
    "burglary-business-community": (
        ("3,208", "2,133", "2,029", "1,979"),
        ("-34%", "-5%", "-2.5%"),
    ),
    "burglary-residential": (("5,565", "4,255", "3,830", "3,701"), ("-24%", "-10%", "-3%")),
    "robbery-personal": (("876", "669", "744", "722"), ("-24%", "+11%", "-3%")),
    "robbery-business": (("69", "34", "44", "56"), ("-51%", "+30%", "+27%")),
}


def printed_number(text: str) -> Fraction:
    return Fraction(text.replace(",", "").rstrip("%*^"))


def printed_change_matches(change: Fraction, printed: str) -> tuple[bool, str]:
    """Return whether `change` rounds (half up) to the printed figure, and what it rounds to."""
    digits = printed.rstrip("%").partition(".")[2]
    exponent = Decimal(1).scaleb(-len(digits))
    exact = Decimal(change.numerator) / Decimal(change.denominator)
    shown = exact.quantize(exponent, rounding=ROUND_HALF_UP)
    return shown == Decimal(printed.rstrip("%")), f"{shown:+}"


def check_seed_tables(data: Dataset) -> list[str]:
    """Assert every figure of the seed's tables; return the printed changes that disagree."""
    disagreements = []
    for (
        code,
        base_window,
        current_window,
        base_text,
        current_text,
        change_text,
    ) in NATIONAL_PICTURE:
        base, current = data.figure(code, base_window), data.figure(code, current_window)
        assert (base, current) == (printed_number(base_text), printed_number(current_text)), code
        percent_measure = data.measures[code]["unit"] == "percent"
        change = current - base if percent_measure else (current - base) / base * 100
        ok, shown = printed_change_matches(change, change_text)
        if not ok:
            disagreements.append(
                f"National Picture {code}: printed {change_text}, computed {shown}"
            )
    for code, (totals, changes) in YTD_TABLES.items():
        figures = [data.figure(code, fytd(y)) for y in range(2019, 2023)]
        assert figures == [printed_number(t) for t in totals], code
        for year, base, current, printed in zip(
            range(2020, 2023), figures[:-1], figures[1:], changes, strict=True
        ):
            ok, shown = printed_change_matches((current - base) / base * 100, printed)
            if not ok:
                disagreements.append(f"YTD {code} {year}: printed {printed}, computed {shown}%")
    for code in ("dvpn", "dvpo"):
        for window, total in COUNTS[code].seed.items():
            assert data.figure(code, window) == total
    for code, (_, printed) in SCORECARD_VALUES.items():
        assert data.stored(code, FORCE, SCORECARD_QUARTER) == Decimal(printed), code
    return disagreements


# --- Tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan() -> dict:
    return yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(plan: dict) -> Dataset:
    return Dataset(plan)


def test_generation_is_deterministic_and_matches_the_committed_file(
    plan: dict, tmp_path: Path
) -> None:
    rows = build_rows(plan)
    with VALUES_FILE.open(newline="", encoding="utf-8") as f:
        assert rows == list(csv.DictReader(f))
    assert build_rows(plan) == rows
    written = tmp_path / "values.csv"
    write_rows(rows, written)
    assert written.read_bytes() == VALUES_FILE.read_bytes()


def test_every_row_is_well_formed_and_every_series_up_to_date(data: Dataset) -> None:
    check_rows(data)


def test_every_constraint_window_adds_up(data: Dataset) -> None:
    check_constraints(data)


def test_every_headline_claim_holds_in_the_data(data: Dataset) -> None:
    check_headlines(data)


def test_every_seed_table_figure_is_reproduced(data: Dataset) -> None:
    check_seed_tables(data)


def test_the_only_printed_change_at_odds_with_its_figures_is_the_known_seed_slip(
    data: Dataset,
) -> None:
    assert check_seed_tables(data) == KNOWN_SEED_SLIPS


def plus_one(value: str) -> str:
    return str(int(value) + 1)


@pytest.mark.parametrize(
    ("key", "change", "check", "message"),
    [
        pytest.param(
            ("999-service-level", FORCE, "2022-09"),
            lambda value: "60.1",
            check_rows,
            "999-service-level",
            id="a-rate-that-is-not-its-numerator-over-denominator",
        ),
        pytest.param(
            ("homicides", FORCE, "2022-03"),
            plus_one,
            check_constraints,
            "homicides",
            id="a-month-that-breaks-a-window-total",
        ),
        pytest.param(
            ("asb-incidents", "blackpool", "2022-07"),
            plus_one,
            check_constraints,
            "districts do not sum to lancs-west",
            id="a-district-that-breaks-its-division-sum",
        ),
        pytest.param(
            ("burglary-residential", FORCE, "2022-12"),
            lambda value: "400",
            check_headlines,
            "Dec 2022 the lowest month since January 2018",
            id="a-month-that-breaks-a-headline",
        ),
        pytest.param(
            ("robbery-business", FORCE, "2022-06"),
            plus_one,
            check_seed_tables,
            "robbery-business",
            id="a-month-that-breaks-a-seed-table-total",
        ),
    ],
)
def test_a_tampered_copy_fails_the_check_that_guards_it(
    plan: dict,
    tmp_path: Path,
    key: tuple[str, str, str],
    change: Callable[[str], str],
    check: Callable[[Dataset], object],
    message: str,
) -> None:
    with VALUES_FILE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    (row,) = [r for r in rows if (r["measure"], r["area"], r["period"]) == key]
    row["value"] = change(row["value"])
    copy = tmp_path / "values.csv"
    write_rows(rows, copy)
    with pytest.raises(AssertionError, match=message):
        check(Dataset(plan, copy))
