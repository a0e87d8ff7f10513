"""Write the demo data set's values to measures/demo/values.csv.

Every figure printed in the tables of the seed report (Q3 2022/23) is a *constraint*: a
window of months whose monthly values must add up to exactly that figure under the
arithmetic of SPEC §4 (sum of counts; Σnumerator / Σdenominator for ratios). Other
constraints, marked "demo", are choices that make the report's Key Headlines true (e.g.
December 2022 is the lowest month for residential burglary since January 2018).

For each monthly series the generator
1. builds an expected level per month: a trend through the constraint windows × a seasonal
   profile × one-off shocks (Covid-19 lockdowns),
2. draws a whole number around it (Poisson for small counts, normal for large ones),
3. adjusts the draws so that every window total is exact, smallest window first, keeping
   every month a whole number within its bounds (never negative).
The output is deterministic: same code, same file. tests/demo/test_demo_values.py reads
values.csv back and asserts every constraint, every cross-series relation, every headline
claim and every figure of the seed's tables, and that this script still writes that file.

Run from the project root:  .venv/bin/python scripts/make_demo_values.py
Then check the file:        .venv/bin/pytest tests/demo
"""

from __future__ import annotations

import csv
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "measures" / "demo"
PLAN_FILE = DEMO_DIR / "plan.yaml"
VALUES_FILE = DEMO_DIR / "values.csv"
HEADER = ["measure", "area", "period", "value", "numerator", "denominator", "note", "source"]

RANDOM_SEED = 20230201
FORCE = "lancs"
NATIONAL = "ew"
FIRST_MONTH = "2018-01"
REPORTING_MONTH = "2022-12"


# --- Months and windows (SPEC §3 notation) ------------------------------------------------


def month(text: str) -> int:
    """Return the month '2022-12' as a month number (months since year 0)."""
    year, mon = text.split("-")
    return int(year) * 12 + int(mon) - 1


def label(number: int) -> str:
    """Return a month number as '2022-12'."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def months(window: str) -> range:
    """Return the month numbers of '2022-04/2022-12' (inclusive) or of '2022-12'."""
    first, _, last = window.partition("/")
    return range(month(first), month(last or first) + 1)


def calendar_year(year: int) -> str:
    return f"{year}-01/{year}-12"


def fytd(year: int) -> str:
    """Return 1 April – 31 December of the financial year starting in `year`."""
    return f"{year}-04/{year}-12"


def quarter(year: int, number: int) -> str:
    """Return calendar quarter `number` (1 = Jan–Mar) of `year`."""
    return f"{year}-{3 * number - 2:02d}/{year}-{3 * number:02d}"


def twelve_months_to(last: str) -> str:
    end = month(last)
    return f"{label(end - 11)}/{last}"


def window_total(series: dict[int, int], window: str) -> int:
    return sum(series[m] for m in months(window))


# --- Seasonal profiles (Jan … Dec) and one-off shocks -------------------------------------

FLAT = (1.0,) * 12
CRIME = (0.95, 0.88, 0.97, 0.97, 1.03, 1.04, 1.08, 1.06, 1.01, 1.02, 0.99, 0.96)
ASB = (0.80, 0.78, 0.92, 1.05, 1.15, 1.15, 1.20, 1.18, 1.00, 1.02, 0.90, 0.82)
BURGLARY = (1.08, 0.95, 0.95, 0.90, 0.90, 0.90, 0.95, 0.97, 1.00, 1.10, 1.15, 1.12)
DOMESTIC_ABUSE = (1.00, 0.93, 0.99, 0.99, 1.03, 1.03, 1.06, 1.06, 0.99, 0.99, 0.95, 1.02)
CALLS_999 = (0.92, 0.86, 0.95, 0.97, 1.04, 1.07, 1.12, 1.10, 1.00, 1.00, 0.97, 1.00)
CALLS_101 = (1.00, 0.92, 1.00, 0.98, 1.02, 1.03, 1.06, 1.05, 1.00, 1.00, 0.98, 0.94)
DIGITAL = (0.94, 0.88, 0.97, 0.98, 1.03, 1.06, 1.10, 1.10, 1.00, 1.00, 0.97, 0.92)
ROADS = (0.95, 0.85, 0.90, 0.95, 1.05, 1.10, 1.10, 1.10, 1.05, 1.00, 1.00, 0.95)

COVID_CRIME = {
    "2020-03": 0.92,
    "2020-04": 0.74,
    "2020-05": 0.84,
    "2020-06": 0.93,
    "2020-11": 0.91,
    "2021-01": 0.86,
    "2021-02": 0.87,
    "2021-03": 0.94,
}
COVID_ACQUISITIVE = {
    "2020-03": 0.90,
    "2020-04": 0.65,
    "2020-05": 0.72,
    "2020-06": 0.86,
    "2020-11": 0.86,
    "2021-01": 0.76,
    "2021-02": 0.78,
    "2021-03": 0.88,
}
# Residential burglary fell less than other acquisitive crime (people at home), and must
# stay above December 2022's low.
COVID_RESIDENTIAL = {
    "2020-04": 0.78,
    "2020-05": 0.82,
    "2020-06": 0.90,
    "2020-11": 0.92,
    "2021-01": 0.85,
    "2021-02": 0.85,
    "2021-03": 0.92,
}
# Reports of Covid-19 rule breaches were logged as ASB.
COVID_ASB = {
    "2020-03": 1.30,
    "2020-04": 2.20,
    "2020-05": 1.90,
    "2020-06": 1.40,
    "2020-07": 1.20,
    "2020-08": 1.10,
    "2020-09": 1.10,
    "2020-10": 1.25,
    "2020-11": 1.45,
    "2020-12": 1.30,
    "2021-01": 1.70,
    "2021-02": 1.45,
    "2021-03": 1.25,
}
COVID_CALLS = {"2020-04": 0.85, "2020-05": 0.93, "2021-01": 0.92}
COVID_DIGITAL = {"2020-04": 1.35, "2020-05": 1.25, "2020-06": 1.10, "2021-01": 1.20}
COVID_ROADS = {
    "2020-04": 0.45,
    "2020-05": 0.65,
    "2020-06": 0.85,
    "2020-11": 0.85,
    "2021-01": 0.75,
    "2021-02": 0.80,
}


# --- Constraint tables --------------------------------------------------------------------


@dataclass
class Counts:
    """A monthly count series for the force and the exact window totals it must give."""

    seed: dict[str, int] = field(default_factory=dict)  # totals printed in the seed's tables
    demo: dict[str, int] = field(default_factory=dict)  # totals chosen to back its headlines
    season: Sequence[float] = FLAT
    shocks: dict[str, float] = field(default_factory=dict)
    cv: float = 0.03  # month-to-month variation beyond Poisson noise
    first: str = FIRST_MONTH
    last: str = REPORTING_MONTH
    floor: dict[str, int] = field(default_factory=dict)  # window -> lowest monthly value
    ceiling: dict[str, int] = field(default_factory=dict)  # window -> highest monthly value
    not_above: str = ""  # never more than this series in the same month
    not_below: str = ""  # never less than this series in the same month

    def constraints(self) -> dict[str, int]:
        return {**self.demo, **self.seed}


@dataclass
class Ratio:
    """A monthly percentage with a numerator and denominator on every month."""

    denominator: str  # code of the count series that is this ratio's denominator
    rate: dict[str, float]  # month -> expected percentage (interpolated in between)
    rate_sd: float  # month-to-month variation of the rate, in points, beyond sampling
    seed: dict[str, str] = field(default_factory=dict)  # window -> exact % printed in the seed
    demo: dict[str, str] = field(default_factory=dict)  # window -> exact % behind a headline
    numerators: dict[str, int] = field(default_factory=dict)  # window -> exact numerator
    floor: dict[str, float] = field(default_factory=dict)  # window -> lowest monthly %
    ceiling: dict[str, float] = field(default_factory=dict)  # window -> highest monthly %
    not_below: str = ""  # its numerator is never less than this ratio's in the same month
    not_above: str = ""  # its numerator is never more than this ratio's in the same month


# In generation order: a series named in not_above / not_below / denominator comes first.
COUNTS: dict[str, Counts] = {
    # National Picture: 12 months to Dec 2020 vs 12 months to Dec 2022.
    "homicides": Counts(
        seed={calendar_year(2020): 23, calendar_year(2022): 14},
        # Two in Quarter 3; a reduction year on year for the past three years.
        demo={
            "2022-10/2022-12": 2,
            calendar_year(2018): 24,
            calendar_year(2019): 27,
            calendar_year(2021): 18,
        },
    ),
    # Three months' lag: 12 months to Sep 2020 vs 12 months to Sep 2022.
    "firearms-offences": Counts(
        seed={"2019-10/2020-09": 44, "2021-10/2022-09": 79},
        demo={"2018-10/2019-09": 39, "2020-10/2021-09": 58},
        last="2022-09",
    ),
    "firearms-discharges": Counts(
        seed={"2019-10/2020-09": 7, "2021-10/2022-09": 8},
        # "2 recorded in the last quarter" (of available data).
        demo={"2022-07/2022-09": 2, "2018-10/2019-09": 9, "2020-10/2021-09": 6},
        last="2022-09",
        not_above="firearms-offences",
    ),
    # One month's lag: 12 months to Nov 2020 vs 12 months to Nov 2022; a decreasing trend.
    "ed-knife-assaults": Counts(
        seed={"2019-12/2020-11": 110, "2021-12/2022-11": 87},
        demo={"2018-12/2019-11": 124, "2020-12/2021-11": 98},
        last="2022-11",
    ),
    "neighbourhood-crime": Counts(
        seed={calendar_year(2020): 16127, calendar_year(2022): 15627},
        demo={calendar_year(2018): 21400, calendar_year(2019): 20900, calendar_year(2021): 14950},
        season=CRIME,
        shocks=COVID_ACQUISITIVE,
    ),
    # Survey respondents; 1,000 in each National Picture window so that the seed's
    # percentages are exact (698 / 1000 = 69.8 %).
    "victims-surveyed": Counts(
        demo={
            calendar_year(2018): 1040,
            calendar_year(2019): 1010,
            calendar_year(2020): 1000,
            calendar_year(2021): 990,
            calendar_year(2022): 1000,
        },
        cv=0.05,
        floor={"2018-01/2022-12": 60},
    ),
    "da-victims-surveyed": Counts(
        demo={
            calendar_year(2018): 960,
            calendar_year(2019): 980,
            calendar_year(2020): 1000,
            calendar_year(2021): 1010,
            calendar_year(2022): 1000,
        },
        cv=0.05,
        floor={"2018-01/2022-12": 60},
    ),
    "cyber-crime": Counts(
        seed={calendar_year(2020): 5744, calendar_year(2022): 6014},
        # "Internal measures indicate a continued increase."
        demo={calendar_year(2018): 3900, calendar_year(2019): 4600, calendar_year(2021): 5890},
        season=CRIME,
    ),
    # Year-to-date tables: 1 April – 31 December 2019 … 2022.
    "all-crime": Counts(
        seed={fytd(2019): 109228, fytd(2020): 90610, fytd(2021): 103809, fytd(2022): 100655},
        # December 2022 = 10,000 crimes so that its outcome rate is exactly 13.64 %.
        demo={fytd(2018): 104500, "2022-12": 10000},
        season=CRIME,
        shocks=COVID_CRIME,
    ),
    # Calls: 999 in Oct–Dec 2022 +6 % on 2019 and +4 % on 2021; September and December
    # totals divisible so that 60.0 % and 91.5 % answered within 10 seconds are exact.
    "calls-999": Counts(
        demo={
            calendar_year(2018): 232000,
            calendar_year(2019): 236000,
            calendar_year(2020): 225000,
            calendar_year(2021): 242000,
            calendar_year(2022): 255000,
            quarter(2019, 4): 58500,
            quarter(2021, 4): 59625,
            quarter(2022, 4): 62010,
            "2022-09": 21215,
            "2022-12": 20600,
        },
        season=CALLS_999,
        shocks=COVID_CALLS,
        cv=0.025,
    ),
    # 101: considerably lower each year; quarter totals make 35 %, 20 %, 5.0 %, 6.0 % exact.
    "calls-101": Counts(
        demo={
            calendar_year(2018): 440000,
            calendar_year(2019): 410000,
            calendar_year(2020): 360000,
            calendar_year(2021): 300000,
            calendar_year(2022): 250000,
            quarter(2019, 4): 96000,
            quarter(2021, 4): 72000,
            quarter(2022, 3): 62000,
            quarter(2022, 4): 58000,
        },
        season=CALLS_101,
        shocks=COVID_CALLS,
        cv=0.025,
    ),
    # Digital contacts: all-time peak in August 2022, decreasing since October.
    "digital-demand": Counts(
        demo={
            calendar_year(2018): 18000,
            calendar_year(2019): 26000,
            calendar_year(2020): 40000,
            calendar_year(2021): 52000,
            calendar_year(2022): 66000,
            "2022-08": 6950,
            "2022-10": 5800,
            "2022-11": 5500,
            "2022-12": 5050,
        },
        season=DIGITAL,
        shocks=COVID_DIGITAL,
        cv=0.02,
        ceiling={"2018-01/2022-07": 6800, "2022-09": 6800},
    ),
    "asb-incidents": Counts(
        seed={fytd(2019): 43375, fytd(2020): 72954, fytd(2021): 53580, fytd(2022): 43062},
        # Oct–Dec 2022 "tracked just below volumes observed for the same period in 2019".
        demo={
            fytd(2018): 45900,
            "2019-10": 4950,
            "2019-11": 4380,
            "2019-12": 4090,
            "2022-10": 4870,
            "2022-11": 4300,
            "2022-12": 4035,
        },
        season=ASB,
        shocks=COVID_ASB,
        cv=0.04,
    ),
    "da-crime": Counts(
        seed={fytd(2019): 16353, fytd(2020): 17765, fytd(2021): 19738, fytd(2022): 18659},
        # A peak in August 2022, then falling to the lowest months since late 2020.
        demo={
            fytd(2018): 15200,
            "2020-12": 1800,
            "2021-01/2021-03": 6150,
            "2022-01/2022-03": 6330,
            "2022-08": 2330,
            "2022-09": 2150,
            "2022-10": 1985,
            "2022-11": 1860,
            "2022-12": 1835,
        },
        season=DOMESTIC_ABUSE,
        cv=0.025,
        floor={"2021-01/2022-10": 1900},
        ceiling={"2022-01/2022-07": 2290},
    ),
    # Monthly table (calendar 2022, Jan … Dec) and low 2021 months.
    "dvpn": Counts(
        seed={
            f"2022-{m:02d}": n
            for m, n in enumerate((3, 1, 3, 5, 25, 13, 25, 24, 31, 22, 29, 27), start=1)
        },
        demo={calendar_year(2021): 34},
        first="2021-01",
        cv=0,
        ceiling={"2021-01/2021-12": 5},
    ),
    "dvpo": Counts(
        seed={
            f"2022-{m:02d}": n
            for m, n in enumerate((1, 1, 3, 4, 24, 8, 21, 20, 29, 19, 28, 21), start=1)
        },
        demo={calendar_year(2021): 21},
        first="2021-01",
        cv=0,
        ceiling={"2021-01/2021-12": 5},
        not_above="dvpn",
    ),
    "burglary-business-community": Counts(
        seed={fytd(2019): 3208, fytd(2020): 2133, fytd(2021): 2029, fytd(2022): 1979},
        demo={fytd(2018): 3350},
        season=BURGLARY,
        shocks=COVID_ACQUISITIVE,
        cv=0.04,
    ),
    # Residential: a spike in November 2022 (East division), then December 2022 the lowest
    # month of the last five years.
    "burglary-residential": Counts(
        seed={fytd(2019): 5565, fytd(2020): 4255, fytd(2021): 3830, fytd(2022): 3701},
        demo={fytd(2018): 5900, "2022-11": 455, "2022-12": 318},
        season=BURGLARY,
        shocks=COVID_RESIDENTIAL,
        cv=0.04,
        floor={"2018-01/2022-11": 335},
    ),
    "robbery-personal": Counts(
        seed={fytd(2019): 876, fytd(2020): 669, fytd(2021): 744, fytd(2022): 722},
        demo={fytd(2018): 905},
        season=CRIME,
        shocks=COVID_ACQUISITIVE,
        cv=0.05,
    ),
    "robbery-business": Counts(
        seed={fytd(2019): 69, fytd(2020): 34, fytd(2021): 44, fytd(2022): 56},
        demo={fytd(2018): 74},
        shocks=COVID_ACQUISITIVE,
    ),
    # Dangerous drivers, calendar years: fatal RTCs 37 in 2021, 42 in 2022.
    "rtc-fatalities": Counts(
        demo={
            calendar_year(2018): 45,
            calendar_year(2019): 41,
            calendar_year(2020): 33,
            calendar_year(2021): 37,
            calendar_year(2022): 42,
        },
        season=ROADS,
        shocks=COVID_ROADS,
    ),
    # TORs: 2022 just under 2,000 above 2021 (+40 %); Operation Limit (21 Nov – 31 Dec
    # 2022) alone issued 963.
    "officer-issued-tors": Counts(
        demo={
            calendar_year(2018): 4200,
            calendar_year(2019): 4450,
            calendar_year(2020): 3900,
            calendar_year(2021): 4935,
            calendar_year(2022): 6910,
            "2022-11": 640,
            "2022-12": 820,
        },
        cv=0.06,
    ),
    # KSI collisions: December 2022 15 of 73 impairment-linked (20.5 %), December 2021
    # 7 of 65 (10.8 %).
    "ksi-collisions": Counts(
        demo={
            calendar_year(2018): 760,
            calendar_year(2019): 745,
            calendar_year(2020): 590,
            calendar_year(2021): 680,
            calendar_year(2022): 700,
            "2021-12": 65,
            "2022-12": 73,
        },
        season=ROADS,
        shocks=COVID_ROADS,
        cv=0.05,
    ),
    "injury-collisions": Counts(
        demo={
            calendar_year(2018): 3300,
            calendar_year(2019): 3200,
            calendar_year(2020): 2450,
            calendar_year(2021): 2800,
            calendar_year(2022): 2850,
            "2022-12": 250,
        },
        season=ROADS,
        shocks=COVID_ROADS,
        cv=0.04,
        not_below="ksi-collisions",
    ),
    # --- Added for the seed's charts (issue 13); drawn last, see ADDED_LATER. ---
    # Hate crimes recorded, the denominator of their outcome rate; December 2022 230.
    "hate-crimes": Counts(
        demo={
            calendar_year(2018): 2600,
            calendar_year(2019): 2900,
            calendar_year(2020): 3150,
            calendar_year(2021): 3300,
            calendar_year(2022): 3100,
            "2022-12": 230,
        },
        season=CRIME,
        cv=0.05,
    ),
    # 101 calls presented in switchboard hours, about four in five of all 101 calls; the
    # quarters' totals make 2.0 % and 3.0 % exact.
    "calls-101-switchboard": Counts(
        demo={
            calendar_year(2018): 352000,
            calendar_year(2019): 328000,
            calendar_year(2020): 288000,
            calendar_year(2021): 240000,
            calendar_year(2022): 200000,
            quarter(2022, 3): 49500,
            quarter(2022, 4): 46000,
        },
        season=CALLS_101,
        shocks=COVID_CALLS,
        cv=0.025,
        not_above="calls-101",
    ),
}

RATIOS: dict[str, Ratio] = {
    "victim-satisfaction": Ratio(
        denominator="victims-surveyed",
        rate={"2018-06": 71.5, "2019-06": 70.6, "2020-06": 69.8, "2021-06": 70.1, "2022-06": 70.2},
        rate_sd=1.0,
        seed={calendar_year(2020): "69.8", calendar_year(2022): "70.2"},
    ),
    "da-victim-satisfaction": Ratio(
        denominator="da-victims-surveyed",
        rate={"2018-06": 86.5, "2019-06": 86.0, "2020-06": 85.3, "2021-06": 84.0, "2022-06": 82.5},
        rate_sd=1.0,
        seed={calendar_year(2020): "85.3", calendar_year(2022): "82.5"},
    ),
    # December 2022 13.64 %, the highest month since May 2020.
    "all-crime-outcome-rate": Ratio(
        denominator="all-crime",
        rate={
            "2018-01": 13.0,
            "2018-12": 12.4,
            "2019-12": 11.8,
            "2020-03": 12.4,
            "2020-04": 14.6,
            "2020-05": 14.3,
            "2020-07": 12.6,
            "2021-06": 11.6,
            "2022-06": 11.8,
            "2022-11": 12.6,
        },
        rate_sd=0.35,
        demo={"2022-12": "13.64"},
        floor={"2020-05": 13.8},
        ceiling={"2020-06/2022-11": 13.4},
    ),
    # 60.0 % in September 2022, improving dramatically from October to 91.5 % in December.
    "999-service-level": Ratio(
        denominator="calls-999",
        rate={
            "2018-01": 90.0,
            "2019-06": 89.0,
            "2020-06": 92.0,
            "2021-06": 87.0,
            "2022-01": 84.0,
            "2022-03": 80.0,
            "2022-05": 72.0,
            "2022-06": 66.0,
            "2022-07": 61.0,
            "2022-08": 58.0,
            "2022-09": 60.0,
            "2022-10": 76.0,
            "2022-11": 87.0,
            "2022-12": 91.5,
        },
        rate_sd=1.0,
        demo={"2022-09": "60.0", "2022-12": "91.5"},
    ),
    # Combined 101 abandonment: Oct–Dec 2019 35 %, Oct–Dec 2021 20 %, Jul–Sep 2022 5.0 %,
    # Oct–Dec 2022 6.0 %.
    "101-abandonment-rate": Ratio(
        denominator="calls-101",
        rate={
            "2018-01": 28.0,
            "2019-06": 33.0,
            "2019-11": 35.0,
            "2020-05": 24.0,
            "2020-12": 26.0,
            "2021-06": 24.0,
            "2021-11": 20.0,
            "2022-03": 12.0,
            "2022-06": 6.0,
            "2022-08": 5.0,
            "2022-11": 6.0,
        },
        rate_sd=1.5,
        demo={
            quarter(2019, 4): "35",
            quarter(2021, 4): "20",
            quarter(2022, 3): "5.0",
            quarter(2022, 4): "6.0",
        },
    ),
    # December 2022: the highest impairment rates on record, 20.5 % of KSI collisions and
    # 13.2 % of all injury collisions; December 2021 10.8 % of KSI collisions.
    "impairment-ksi-rate": Ratio(
        denominator="ksi-collisions",
        rate={"2018-06": 9.5, "2020-06": 10.5, "2022-06": 11.0},
        rate_sd=0.3,
        numerators={"2022-12": 15, "2021-12": 7},
        ceiling={"2018-01/2022-11": 16.0},
    ),
    "impairment-injury-rate": Ratio(
        denominator="injury-collisions",
        rate={"2018-06": 7.5, "2020-06": 8.0, "2022-06": 8.5},
        rate_sd=0.4,
        demo={"2022-12": "13.2"},
        ceiling={"2018-01/2022-11": 12.5},
        not_below="impairment-ksi-rate",  # every KSI collision is an injury collision
    ),
    # --- Added for the seed's charts (issue 13); drawn last, see ADDED_LATER. ---
    # "Personal Robbery and Hate Crime outcomes both exceeding 20%" in December 2022
    # (12 of 53 personal robberies, 22.64 %; 49 of 230 hate crimes, 21.30 %), above every
    # month of the two years the report charts.
    "personal-robbery-outcome-rate": Ratio(
        denominator="robbery-personal",
        rate={"2018-06": 16.0, "2020-05": 19.0, "2021-06": 13.0, "2022-06": 14.0, "2022-11": 16.5},
        rate_sd=1.5,
        numerators={"2022-12": 12},
        ceiling={"2021-01/2022-11": 19.5},
    ),
    "hate-crime-outcome-rate": Ratio(
        denominator="hate-crimes",
        rate={"2018-06": 15.0, "2020-06": 17.0, "2021-06": 13.0, "2022-06": 14.5, "2022-11": 17.0},
        rate_sd=1.0,
        numerators={"2022-12": 49},
        ceiling={"2021-01/2022-11": 19.5},
    ),
    # Switchboard hours' 101 abandonment: 2.0 % in Jul-Sep 2022, 3.0 % in Oct-Dec 2022; its
    # abandoned calls are some of the combined rate's in every month.
    "101-switchboard-abandonment-rate": Ratio(
        denominator="calls-101-switchboard",
        rate={
            "2018-01": 25.0,
            "2019-06": 30.0,
            "2019-11": 31.0,
            "2020-05": 20.0,
            "2020-12": 22.0,
            "2021-06": 20.0,
            "2021-11": 16.0,
            "2022-03": 8.0,
            "2022-06": 3.0,
            "2022-08": 2.0,
            "2022-11": 3.0,
        },
        rate_sd=0.8,
        demo={quarter(2022, 3): "2.0", quarter(2022, 4): "3.0"},
        not_above="101-abandonment-rate",
    ),
}

# Series added after the data set was first written, for the seed's charts (issue 13). They
# are drawn after every other series, from a random stream of their own, so that adding
# them left every value drawn before them as it was. Counts come before the ratios over them.
ADDED_LATER = (
    "hate-crimes",
    "calls-101-switchboard",
    "personal-robbery-outcome-rate",
    "hate-crime-outcome-rate",
    "101-switchboard-abandonment-rate",
)
ADDED_LATER_SEED = RANDOM_SEED + 1

# --- Areas below the force ----------------------------------------------------------------

# district -> (division, relative share of incidents)
DISTRICTS: dict[str, tuple[str, float]] = {
    "blackpool": ("lancs-west", 1.70),
    "fylde": ("lancs-west", 0.45),
    "wyre": ("lancs-west", 0.65),
    "lancaster": ("lancs-west", 0.95),
    "blackburn-with-darwen": ("lancs-east", 1.15),
    "burnley": ("lancs-east", 0.85),
    "hyndburn": ("lancs-east", 0.65),
    "pendle": ("lancs-east", 0.70),
    "ribble-valley": ("lancs-east", 0.25),
    "rossendale": ("lancs-east", 0.50),
    "preston": ("lancs-south", 1.35),
    "chorley": ("lancs-south", 0.65),
    "south-ribble": ("lancs-south", 0.60),
    "west-lancashire": ("lancs-south", 0.65),
}
DIVISIONS = ("lancs-west", "lancs-east", "lancs-south")


@dataclass
class DistrictSplit:
    """How a force series is shared out between districts each month."""

    jitter: float  # month-to-month variation of a district's share
    boosts: dict[tuple[str, str], float] = field(default_factory=dict)  # (month, division)


SPLITS: dict[str, DistrictSplit] = {
    "asb-incidents": DistrictSplit(jitter=0.05),
    # "A notable increase was observed in East division during November but ... levels in
    # December were more comparable with earlier in the year" (while the rest of the force
    # fell to a five-year low).
    "burglary-residential": DistrictSplit(
        jitter=0.08, boosts={("2022-11", "lancs-east"): 1.5, ("2022-12", "lancs-east"): 1.3}
    ),
}
# Homicide problem profile, 01/04/2019 – 31/03/2022: Blackpool 13, Lancaster 9, the most.
HOMICIDE_PROFILE_WINDOW = "2019-04/2022-03"
HOMICIDE_PROFILE = {"blackpool": 13, "lancaster": 9}

# --- Values stored for a multi-month period -----------------------------------------------

CJS_LATEST = "2021-10/2022-09"  # dashboard release of February 2023
CJS_PREVIOUS = "2021-07/2022-06"
# measure -> (Lancashire previous, Lancashire latest, national previous, national latest)
CJS_VALUES: dict[str, tuple[str, str, str, str]] = {
    "cjs-all-investigation-days": ("45", "47", "55", "58"),
    "cjs-all-cps-charge-days": ("41", "44", "42", "44"),
    "cjs-all-crown-court-days": ("278", "266", "268", "271"),
    "cjs-all-positive-outcome-rate": ("8.8", "9.0", "9.1", "9.0"),
    "cjs-all-victim-not-supporting": ("30.0", "31.0", "24.2", "24.0"),
    "cjs-rape-investigation-days": ("548", "561", "689", "706"),
    "cjs-rape-positive-outcome-rate": ("5.2", "5.6", "5.4", "5.6"),
    "cjs-rape-cps-charge-days": ("92", "89", "108", "112"),
    "cjs-rape-crown-court-days": ("386", "390", "358", "363"),
    "cjs-rape-victim-not-supporting": ("37.0", "39.0", "41.5", "42.0"),
    "cjs-rape-suspects-referred": ("196", "214", "7480", "7820"),
    "cjs-rape-trial-or-plea": ("89.0", "91.0", "86.0", "87.0"),
}
CJS_2016_BASELINE = ("cjs-rape-suspects-referred", FORCE, "2016-01/2016-12", "201")

SCORECARD_QUARTER = "2022-10/2022-12"
SCORECARD_PREVIOUS = "2022-07/2022-09"
# measure -> (Jul–Sep 2022, Oct–Dec 2022 as printed in the seed)
SCORECARD_VALUES: dict[str, tuple[str, str]] = {
    "arrests": ("251", "283"),
    "charges": ("84", "90"),
    "people-convicted": ("15", "12"),
    "years-imprisonment": ("72.5", "59.4"),
    "preventative-orders": ("5", "7"),
    "cash-seizures": ("18", "21"),
    "cash-seized-value": ("41250", "30801"),
    "disruptions-major": ("2", "3"),
    "disruptions-moderate": ("31", "36"),
    "disruptions-minor": ("142", "155"),
    "disruptions-none": ("4", "3"),
    "disruptions-total": ("179", "197"),
    "firearms-recovered": ("2", "0"),
    "ammunition-rounds": ("36", "0"),
    "class-a-drugs-kg": ("5.2", "8.8"),
    "class-b-drugs-kg": ("14.3", "0.6"),
    "cannabis-plants": ("412", "688"),
    "multi-agency-meetings": ("19", "21"),
    "adults-safeguarded": ("17", "23"),
    "children-safeguarded": ("11", "9"),
}

LOCKDOWN_ASB = "Covid-19 lockdown: includes reports of breaches of Covid-19 regulations."
NOTES: dict[tuple[str, str, str], str] = {
    ("asb-incidents", FORCE, "2020-04"): LOCKDOWN_ASB,
    ("asb-incidents", FORCE, "2021-01"): LOCKDOWN_ASB,
    ("burglary-residential", "lancs-east", "2022-11"): "Known offender active; since apprehended.",
    ("999-service-level", FORCE, "2022-10"): "Telephony change: 999 resourcing flexed to demand.",
    ("officer-issued-tors", FORCE, "2022-12"): "Operation Limit (21 Nov - 31 Dec): 963 TORs.",
    ("dvpn", FORCE, "2022-12"): "Civil orders database live from 1 December 2022.",
}


# --- Generation ---------------------------------------------------------------------------


def interpolate(anchors: list[tuple[float, float]]) -> Callable[[float], float]:
    """Return the piecewise-linear function through anchors, flat beyond the ends."""
    points = sorted(anchors)

    def at(x: float) -> float:
        if x <= points[0][0]:
            return points[0][1]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            if x <= x1:
                return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        return points[-1][1]

    return at


def by_size(constraints: dict[str, int]) -> list[tuple[range, int]]:
    """Return the constraints smallest window first, so nested windows are met inside out."""
    windows = [(months(window), total) for window, total in constraints.items()]
    return sorted(windows, key=lambda c: (len(c[0]), c[0][0]))


def expected_levels(spec: Counts) -> dict[int, float]:
    """Return each month's expected value: trend × season × shock, exact on every window."""
    span = months(f"{spec.first}/{spec.last}")
    shape = {m: spec.season[m % 12] * spec.shocks.get(label(m), 1.0) for m in span}
    constraints = spec.constraints()
    long_windows = {w: t for w, t in constraints.items() if len(months(w)) >= 6} or constraints
    centres: dict[float, list[float]] = defaultdict(list)
    for window, total in long_windows.items():
        ms = months(window)
        centres[(ms[0] + ms[-1]) / 2].append(total / sum(shape[m] for m in ms))
    trend = interpolate([(x, sum(ys) / len(ys)) for x, ys in centres.items()])
    level = {m: trend(m) * shape[m] for m in span}
    locked: set[int] = set()
    for ms, total in by_size(constraints):
        free = [m for m in ms if m not in locked]
        rest = total - sum(level[m] for m in ms if m in locked)
        assert rest >= 0 and (free or rest == 0), f"constraints cannot all hold at {ms}"
        scale = rest / sum(level[m] for m in free) if free else 0.0
        for m in free:
            level[m] *= scale
        locked.update(ms)
    return level


def poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def draw(rng: random.Random, mean: float, cv: float) -> int:
    """Return a whole number around `mean`: Poisson when small, else normal with extra cv."""
    if mean < 30:
        return poisson(rng, mean)
    return round(rng.gauss(mean, math.sqrt(mean + (cv * mean) ** 2)))


def make_totals_exact(
    values: dict[int, int], constraints: dict[str, int], lo: dict[int, int], hi: dict[int, int]
) -> None:
    """Adjust `values` in place so each window sums to its total, within [lo, hi].

    Windows are met smallest first; a month used by a met window is then left alone, so
    nested windows (a quarter inside its year) hold together. The difference is shared in
    proportion to the months' values, by largest remainder, so the seasonal shape survives.
    """
    locked: set[int] = set()
    for ms, total in by_size(constraints):
        free = [m for m in ms if m not in locked]
        diff = total - sum(values[m] for m in ms)
        while diff:
            sign = 1 if diff > 0 else -1
            room = {m: hi[m] - values[m] if sign > 0 else values[m] - lo[m] for m in free}
            movable = [m for m in free if room[m] > 0]
            assert movable, f"cannot reach {total} in {label(ms[0])}/{label(ms[-1])}"
            weight = {m: max(values[m], 1) for m in movable}
            need, total_weight = abs(diff), sum(weight.values())
            share = {m: need * weight[m] / total_weight for m in movable}
            step = {m: min(int(share[m]), room[m]) for m in movable}
            left = need - sum(step.values())
            for m in sorted(movable, key=lambda m: (-(share[m] - int(share[m])), m)):
                if left == 0:
                    break
                if step[m] < room[m]:
                    step[m] += 1
                    left -= 1
            for m in movable:
                values[m] += sign * step[m]
            diff -= sign * sum(step.values())
        locked.update(ms)


def bounds_by_window(span: range, windows: dict[str, int], default: int) -> dict[int, int]:
    bound = dict.fromkeys(span, default)
    for window, value in windows.items():
        for m in months(window):
            bound[m] = value
    return bound


def generate_counts(
    rng: random.Random, series: dict[str, dict[int, int]], spec: Counts
) -> dict[int, int]:
    """Return the monthly counts of `spec`; `series` holds those generated before it."""
    level = expected_levels(spec)
    lo = bounds_by_window(range(min(level), max(level) + 1), spec.floor, 0)
    hi = bounds_by_window(range(min(level), max(level) + 1), spec.ceiling, 10**9)
    if spec.not_above:
        for m in level:
            hi[m] = min(hi[m], series[spec.not_above][m])
    if spec.not_below:
        for m in level:
            lo[m] = max(lo[m], series[spec.not_below][m])
    values = {m: min(max(draw(rng, level[m], spec.cv), lo[m]), hi[m]) for m in level}
    make_totals_exact(values, spec.constraints(), lo, hi)
    return values


def exact_numerator(rate: str, denominator: int) -> int:
    """Return the numerator giving exactly `rate` % of `denominator` (it must be whole)."""
    numerator = Fraction(rate) * denominator / 100
    assert numerator.denominator == 1, f"{rate}% of {denominator} is not a whole number"
    return int(numerator)


def generate_ratio(
    rng: random.Random,
    den: dict[int, int],
    spec: Ratio,
    earlier: dict[str, dict[int, int]],
) -> dict[int, int]:
    """Return monthly numerators for `den` that meet the ratio's exact windows.

    `earlier` holds the numerators of the ratios generated before this one.
    """
    rate = interpolate([(month(m), r) for m, r in spec.rate.items()])
    lo = {m: earlier[spec.not_below][m] if spec.not_below else 0 for m in den}
    hi = {m: min(d, earlier[spec.not_above][m]) if spec.not_above else d for m, d in den.items()}
    for window, lowest in spec.floor.items():
        for m in months(window):
            lo[m] = max(lo[m], math.ceil(lowest * den[m] / 100))
    for window, highest in spec.ceiling.items():
        for m in months(window):
            hi[m] = math.floor(highest * den[m] / 100)
    numerators = {}
    for m, d in den.items():
        p = min(max(rate(m) + rng.gauss(0, spec.rate_sd), 0.0), 100.0) / 100
        n = round(rng.gauss(d * p, math.sqrt(d * p * (1 - p))))
        numerators[m] = min(max(n, lo[m]), hi[m])
    constraints = dict(spec.numerators)
    for window, pct in {**spec.demo, **spec.seed}.items():
        constraints[window] = exact_numerator(pct, window_total(den, window))
    make_totals_exact(numerators, constraints, lo, hi)
    return numerators


def apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Share `total` in proportion to `weights` by largest remainder."""
    whole = sum(weights.values())
    share = {k: total * w / whole for k, w in weights.items()}
    parts = {k: int(s) for k, s in share.items()}
    left = total - sum(parts.values())
    for k in sorted(share, key=lambda k: (-(share[k] - parts[k]), k))[:left]:
        parts[k] += 1
    return parts


def split_by_district(
    rng: random.Random, force: dict[int, int], split: DistrictSplit
) -> dict[str, dict[int, int]]:
    """Share each month's force value between the districts (they add up to it exactly)."""
    by_district: dict[str, dict[int, int]] = {d: {} for d in DISTRICTS}
    for m, total in force.items():
        weights = {}
        for d, (division, share) in DISTRICTS.items():
            boost = split.boosts.get((label(m), division), 1.0)
            weights[d] = share * max(rng.gauss(1, split.jitter), 0.5) * boost
        for d, n in apportion(total, weights).items():
            by_district[d][m] = n
    return by_district


def assign_homicides(rng: random.Random, force: dict[int, int]) -> dict[str, dict[int, int]]:
    """Give each homicide a district; the problem-profile window gets the seed's counts."""
    by_district: dict[str, dict[int, int]] = {d: dict.fromkeys(force, 0) for d in DISTRICTS}
    profile = months(HOMICIDE_PROFILE_WINDOW)
    in_profile = [m for m in force if m in profile for _ in range(force[m])]
    rng.shuffle(in_profile)
    for district, count in HOMICIDE_PROFILE.items():
        for m in in_profile[:count]:
            by_district[district][m] += 1
        in_profile = in_profile[count:]
    others = [d for d in DISTRICTS if d not in HOMICIDE_PROFILE]
    cap = min(HOMICIDE_PROFILE.values()) - 1  # Blackpool and Lancaster recorded the most
    for m in in_profile:
        open_districts = [d for d in others if sum(by_district[d][x] for x in profile) < cap]
        weights = [DISTRICTS[d][1] for d in open_districts]
        by_district[rng.choices(open_districts, weights)[0]][m] += 1
    shares = [share for _, share in DISTRICTS.values()]
    for m in force:
        if m in profile:
            continue
        for _ in range(force[m]):
            by_district[rng.choices(list(DISTRICTS), shares)[0]][m] += 1
    return by_district


def with_divisions(by_district: dict[str, dict[int, int]]) -> dict[str, dict[int, int]]:
    """Return the districts' series preceded by their divisions' (sums of their districts)."""
    span = next(iter(by_district.values())).keys()
    divisions = {}
    for div in DIVISIONS:
        districts = [d for d, (dv, _) in DISTRICTS.items() if dv == div]
        divisions[div] = {m: sum(by_district[d][m] for d in districts) for m in span}
    return {**divisions, **by_district}


def percent(numerator: int, denominator: int, decimals: int) -> str:
    value = Decimal(numerator * 100) / Decimal(denominator)
    return str(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def build_rows(plan: dict) -> list[dict[str, str]]:
    rng = random.Random(RANDOM_SEED)
    measures = {m["code"]: m for p in plan["priorities"] for m in p["measures"]}
    series: dict[str, dict[int, int]] = {}
    for code, count_spec in COUNTS.items():
        if code not in ADDED_LATER:
            series[code] = generate_counts(rng, series, count_spec)
    numerators: dict[str, dict[int, int]] = {}
    for code, ratio_spec in RATIOS.items():
        if code not in ADDED_LATER:
            den = series[ratio_spec.denominator]
            numerators[code] = generate_ratio(rng, den, ratio_spec, numerators)
    areas: dict[str, dict[str, dict[int, int]]] = {
        code: with_divisions(split_by_district(rng, series[code], split))
        for code, split in SPLITS.items()
    }
    areas["homicides"] = with_divisions(assign_homicides(rng, series["homicides"]))
    later = random.Random(ADDED_LATER_SEED)
    for code in ADDED_LATER:
        if code in COUNTS:
            series[code] = generate_counts(later, series, COUNTS[code])
        else:
            den = series[RATIOS[code].denominator]
            numerators[code] = generate_ratio(later, den, RATIOS[code], numerators)

    rows: list[dict[str, str]] = []

    def add(code: str, area: str, period: str, value: str, num: str = "", den: str = "") -> None:
        rows.append(
            {
                "measure": code,
                "area": area,
                "period": period,
                "value": value,
                "numerator": num,
                "denominator": den,
                "note": NOTES.get((code, area, period), ""),
                "source": measures[code]["source"],
            }
        )

    for code, measure in measures.items():
        if code in RATIOS:
            den = series[RATIOS[code].denominator]
            for m, d in den.items():
                n = numerators[code][m]
                add(code, FORCE, label(m), percent(n, d, measure["decimals"]), str(n), str(d))
        elif code in COUNTS:
            for area, values in {FORCE: series[code], **areas.get(code, {})}.items():
                for m, v in values.items():
                    add(code, area, label(m), str(v))
        elif code in CJS_VALUES:
            lancs_prev, lancs_latest, ew_prev, ew_latest = CJS_VALUES[code]
            if (code, FORCE) == CJS_2016_BASELINE[:2]:
                add(code, FORCE, CJS_2016_BASELINE[2], CJS_2016_BASELINE[3])
            add(code, FORCE, CJS_PREVIOUS, lancs_prev)
            add(code, FORCE, CJS_LATEST, lancs_latest)
            add(code, NATIONAL, CJS_PREVIOUS, ew_prev)
            add(code, NATIONAL, CJS_LATEST, ew_latest)
        elif code in SCORECARD_VALUES:
            previous, current = SCORECARD_VALUES[code]
            add(code, FORCE, SCORECARD_PREVIOUS, previous)
            add(code, FORCE, SCORECARD_QUARTER, current)
        else:
            raise AssertionError(f"no values are generated for measure {code}")
    return rows


def write_rows(rows: list[dict[str, str]], path: Path = VALUES_FILE) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    plan = yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))
    rows = build_rows(plan)
    write_rows(rows)
    print(f"wrote {len(rows)} values to {VALUES_FILE.relative_to(ROOT)}")
    print("check them with: .venv/bin/pytest tests/demo")


if __name__ == "__main__":
    main()
