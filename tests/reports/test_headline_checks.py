"""Numbers typed into Key Headlines are checked against the computed figures (SPEC §4).

The headline texts are the seed report's (Q3 2022/23), copied verbatim; the figures are the
seed's: homicides 23 → 14 (−39.1%) with 2 in Q3, DA victim satisfaction 82.5%, victim
satisfaction 70.2%, cyber crime +4.7%, ASB incidents −19.6% year to date.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from reports.headlines.checks import (
    Finding,
    MeasureFigures,
    check_headline,
    derive_aliases,
    summarise,
)


@dataclass(frozen=True)
class SeedMeasure:
    code: str
    name: str
    unit: str = "count"
    decimals: int = 0


HOMICIDES = SeedMeasure("homicides", "Recorded Homicides")
FIREARMS_OFFENCES = SeedMeasure(
    "firearms-offences",
    "Firearms Offences (includes all uses however excludes air weapons and bb guns)",
)
DISCHARGES = SeedMeasure(
    "firearms-discharges",
    "Discharges of Lethal Barrelled Firearms (handguns, shotguns and rifles - not air)",
)
ED_KNIFE = SeedMeasure(
    "ed-knife-assaults", "Presentations to ED with knife/sharp object assault injuries"
)
NEIGHBOURHOOD_CRIME = SeedMeasure(
    "neighbourhood-crime", "Recorded Burglary, Robbery, Theft of/from vehicle, Theft from person"
)
VICTIM_SATISFACTION = SeedMeasure(
    "victim-satisfaction", "% Victims Satisfied (internal surveys)", "percent", 1
)
DA_VICTIM_SATISFACTION = SeedMeasure(
    "da-victim-satisfaction", "% DA Victims Satisfied (internal surveys)", "percent", 1
)
CYBER = SeedMeasure("cyber-crime", "Recorded Online/Cyber-enabled crimes")
NATIONAL_PICTURE_MEASURES = [
    HOMICIDES,
    FIREARMS_OFFENCES,
    DISCHARGES,
    ED_KNIFE,
    NEIGHBOURHOOD_CRIME,
    VICTIM_SATISFACTION,
    DA_VICTIM_SATISFACTION,
    CYBER,
]
SERVICE_LEVEL = SeedMeasure(
    "999-service-level", "999 service level (answered within 10 seconds)", "percent", 1
)
CALLS_999 = SeedMeasure("calls-999", "999 calls presented")
ASB_INCIDENTS = SeedMeasure("asb-incidents", "ASB incidents")
ARRESTS = SeedMeasure("arrests", "Arrests")
CHARGES = SeedMeasure("charges", "Charges")
DA_CRIME = SeedMeasure("da-crime", "DA crime")


def pct(base: str, current: str) -> Decimal:
    return (Decimal(current) - Decimal(base)) / Decimal(base) * 100


FIGURES = {
    "homicides": MeasureFigures(
        rolling_12_months=Decimal(14),
        rolling_12_months_change_pct_vs_baseline=pct("23", "14"),  # −39.13
        rolling_12_months_change_pct_vs_previous_year=pct("16", "14"),  # −12.5
        latest_quarter=Decimal(2),
        latest_quarter_number=3,
    ),
    "firearms-discharges": MeasureFigures(
        rolling_12_months=Decimal(8),
        rolling_12_months_change_pct_vs_baseline=pct("7", "8"),
        latest_quarter=Decimal(2),
        latest_quarter_number=3,
    ),
    "victim-satisfaction": MeasureFigures(
        rolling_12_months=Decimal("70.2"),
        rolling_12_months_change_pp_vs_baseline=Decimal("0.4"),
        rolling_12_months_change_pct_vs_baseline=pct("69.8", "70.2"),  # +0.57
    ),
    "da-victim-satisfaction": MeasureFigures(
        rolling_12_months=Decimal("82.5"),
        rolling_12_months_change_pp_vs_baseline=Decimal("-2.8"),
        rolling_12_months_change_pct_vs_baseline=pct("85.3", "82.5"),  # −3.28
    ),
    "cyber-crime": MeasureFigures(
        rolling_12_months=Decimal(6014),
        rolling_12_months_change_pct_vs_baseline=pct("5744", "6014"),  # +4.70
    ),
    "neighbourhood-crime": MeasureFigures(
        rolling_12_months=Decimal(15627),
        rolling_12_months_change_pct_vs_baseline=pct("16127", "15627"),  # −3.10
    ),
    "999-service-level": MeasureFigures(
        rolling_12_months=Decimal("78.4"),
        latest_month=Decimal("91.5"),
        latest_month_name="December",
    ),
    "asb-incidents": MeasureFigures(
        financial_year_to_date=Decimal(43062),
        financial_year_to_date_change_pct=pct("53580", "43062"),  # −19.63
    ),
}


def figures(measure: SeedMeasure) -> MeasureFigures:
    return FIGURES.get(measure.code, MeasureFigures())


def check(text: str, measures=NATIONAL_PICTURE_MEASURES, **options) -> list[Finding]:
    return check_headline(text, measures, figures, **options)


def found(findings: list[Finding]) -> list[tuple[str, str, bool]]:
    return [(f.number_text, f.measure_code, f.matches) for f in findings]


NATIONAL_PICTURE = (
    "- **Serious Violence:** Discharges of lethal, barrelled weapons remain low in "
    "number, with 2 recorded in the last quarter. There has been an increase in overall"
    " police investigations with Firearms markers, but analysis has confirmed that this"
    " continues to be driven by threats with weapons, rather than their active use. "
    "There have been no fatal injuries using firearms in the last year and no firearms "
    "thefts. NHS data continues to show a decreasing trend in admissions for "
    "knife/sharp object assault injuries.\n"
    "- **Homicide:** There have been two homicides recorded in Quarter 3 (Oct-Dec "
    "2022). A Homicide and “Near miss” Problem Profile is nearing completion and will "
    "be submitted to the College of Policing for aggregation into a national product. "
    "Data Analysed over a 3-year period (01/04/2019 to 31/03/2022) has identified that "
    "spontaneous/random violence, youth knife crime and domestic abuse account for a "
    "significant proportion of homicides. In Lancashire, a high proportion of victims "
    "are older white north-European males deemed vulnerable due to lifestyle. Females "
    "accounted for 31% of homicide victims. 8% of homicides could be classed as DA- "
    "related. Suspects for homicide offences are mainly white North-European males "
    "(76%). The districts of Blackpool and Lancaster recorded the most offences over "
    "the period (13 and 9 respectively). Although reported homicides in Lancashire have"
    " steadily increased since 2013, in line with the national trend, there has been a "
    "reduction year on year for the past three years. Lancashire Constabulary’s "
    "Homicide Prevention Strategy has recently been published and covers 8 Strategic "
    "themes, including SOC, VAWG and Organisational Learning.\n"
    "- **Victim Satisfaction:** Levels for DA victims and Overall victims remain circa "
    "83% and 70% respectively.\n"
    "- **Cyber crime** – Internal measures indicate a continued increase. National data"
    " has been published but aggregates Cyber Threats by Regional Organised Crime Unit "
    "(ROCU) only at this stage."
)
HOMICIDE = (
    "- **Homicide:** There have been two homicides recorded in Quarter 3 (Oct-Dec "
    "2022). A Homicide and “Near miss” Problem Profile is nearing completion and will "
    "be submitted to the College of Policing for aggregation into a national product. "
    "Data Analysed over a 3-year period (01/04/2019 to 31/03/2022) has identified that "
    "spontaneous/random violence, youth knife crime and domestic abuse account for a "
    "significant proportion of homicides. In Lancashire, a high proportion of victims "
    "are older white north-European males deemed vulnerable due to lifestyle. Females "
    "accounted for 31% of homicide victims. 8% of homicides could be classed as DA- "
    "related. Suspects for homicide offences are mainly white North-European males "
    "(76%). The districts of Blackpool and Lancaster recorded the most offences over "
    "the period (13 and 9 respectively). Although reported homicides in Lancashire have"
    " steadily increased since 2013, in line with the national trend, there has been a "
    "reduction year on year for the past three years. Lancashire Constabulary’s "
    "Homicide Prevention Strategy has recently been published and covers 8 Strategic "
    "themes, including SOC, VAWG and Organisational Learning."
)
CYBER_CRIME = (
    "- **Cyber crime** – Internal measures indicate a continued increase. National data"
    " has been published but aggregates Cyber Threats by Regional Organised Crime Unit "
    "(ROCU) only at this stage."
)
SERVICE_LEVELS = (
    "- **999 Service Levels have improved dramatically since October**, reaching 91.5% "
    "in December, (improving from 60% in September). This improvement followed "
    "telephony enhancements which allow supervisors to flex the resourcing of 999 call "
    "takers in line with demand, and SLAs have been maintained into 2023 with the "
    "figure for the calendar year to date sitting at 93%."
)
ASB = (
    "- **ASB incident volumes continue to track below the previous financial year to "
    "date** (see below). The trend in the last quarter tracked just below volumes "
    "observed for the same period in 2019. The latest ONS data release reported a 35% "
    "decrease Nationally to the end of September 2022 vs. the previous 12 months. "
    "Across the last quarter, repeat locations have centred around supermarkets, fast "
    "food restaurants and major hospitals. All Districts are showing reductions year to"
    " date."
)
OPERATION_WARRIOR = (
    "- **Operation Warrior**, a force-wide approach to tackling SOC launched internally"
    " with a dedicated intranet site and briefings delivered to frontline officers and "
    "Lead Responsible Officers; and externally with a link to Crimestoppers reporting "
    "and awareness raising through multimedia. Social media posts reached over 290k "
    "users and drew over 3000 interactions. Crimestoppers intelligence will be "
    "monitored throughout as a measure of effectiveness."
)
ROBBERY_WEEK_OF_ACTION = (
    "- The inaugural **NPCC National Personal Robbery week of action** ran from 10- "
    "17th December. Locally, the week was successful with targeted patrols of hotspots "
    "in each division, community engagement and social media robbery prevention advice "
    "resulting in nine arrests, 131 stop and searches and the arrest of five wanted "
    "offenders."
)
DA_SATISFACTION = (
    "- The proportion of **DA victims satisfied with the police service they received "
    "is stable** – sitting at 83% for the last 12 months. New surveys for DA and "
    "Stalking victims launched in December (as mandated Nationally). Almost 92% were "
    "satisfied with the initial contact process and 100% of those who reported via the "
    "Public Engagement portal found it easy to use. 95% reported that police treated "
    "them with respect."
)


# --- The seed's headlines -----------------------------------------------------------------


def test_it_finds_and_matches_the_numbers_of_the_seed_national_picture():
    assert found(check(NATIONAL_PICTURE)) == [
        ("2", "firearms-discharges", True),
        ("two", "homicides", True),
        ("circa 83%", "da-victim-satisfaction", True),
        ("70%", "victim-satisfaction", True),
    ]


def test_it_reads_counts_against_the_latest_quarter():
    findings = check(NATIONAL_PICTURE)
    assert [(f.kind, f.expected_text) for f in findings[:2]] == [
        ("count", "2 (Q3)"),
        ("count", "2 (Q3)"),
    ]


def test_it_ignores_dates_years_shares_and_unrelated_numbers_in_the_homicide_bullet():
    # "3-year period", "01/04/2019", "31%"/"8%" of victims, "(76%)", "(13 and 9
    # respectively)", "since 2013", "three years", "8 Strategic themes": none is a figure.
    assert found(check(HOMICIDE)) == [("two", "homicides", True)]


def test_a_wrong_count_in_words_is_a_mismatch_with_the_computed_figure():
    findings = check("There have been three homicides recorded in Quarter 3 (Oct-Dec 2022).")
    assert findings == [
        Finding(
            sentence="There have been three homicides recorded in Quarter 3 (Oct-Dec 2022).",
            number_text="three",
            measure_code="homicides",
            expected_text="2 (Q3)",
            matches=False,
            kind="count",
            measure_name="Recorded Homicides",
        )
    ]


def test_a_quarter_other_than_the_latest_is_not_checked():
    assert check("There have been three homicides recorded in Quarter 2.") == []


def test_the_da_satisfaction_rate_sitting_at_83_percent_matches_82_5():
    findings = check(DA_SATISFACTION, [DA_CRIME, DA_VICTIM_SATISFACTION])
    # "Almost 92% were satisfied …", "100% of those …", "95% reported …" are other surveys.
    assert found(findings) == [("83%", "da-victim-satisfaction", True)]
    assert findings[0].kind == "rate"
    assert findings[0].expected_text == "82.5% (12 months; rounds to 83%)"


def test_a_da_satisfaction_rate_of_79_percent_is_a_mismatch():
    text = DA_SATISFACTION.replace("sitting at 83%", "sitting at 79%")
    findings = check(text, [DA_CRIME, DA_VICTIM_SATISFACTION])
    assert found(findings) == [("79%", "da-victim-satisfaction", False)]
    assert findings[0].expected_text == "82.5% (12 months; rounds to 83%)"


def test_respectively_pairs_rates_in_the_order_the_measures_are_named():
    swapped = NATIONAL_PICTURE.replace("circa 83% and 70%", "circa 70% and 83%")
    assert found(check(swapped))[2:] == [
        ("circa 70%", "da-victim-satisfaction", False),
        ("83%", "victim-satisfaction", False),
    ]


def test_a_list_that_does_not_pair_with_the_measures_is_not_checked():
    text = "Levels for DA victims and Overall victims remain 83%, 70% and 12% respectively."
    assert check(text) == []


def test_the_cyber_crime_bullet_has_no_number_to_check():
    assert check(CYBER_CRIME) == []


def test_an_asb_headline_without_a_number_has_nothing_to_check():
    # "continue to track below" says no number; "35% decrease Nationally", "2019" and
    # "September 2022" are about other figures.
    assert check(ASB, [ASB_INCIDENTS]) == []


def test_a_month_is_read_as_the_latest_month_only_when_it_is():
    # "91.5% in December" is December's level; "from 60% in September" is an old value and
    # "93%" is a calendar-year figure of another measure.
    findings = check(SERVICE_LEVELS, [CALLS_999, SERVICE_LEVEL])
    assert found(findings) == [("91.5%", "999-service-level", True)]
    assert findings[0].expected_text == "91.5% (December)"
    assert check("999 service levels reached 91.5% in November.", [SERVICE_LEVEL]) == []


def test_a_headline_without_measure_names_yields_no_findings_and_reads_no_figures():
    def no_figures(measure):
        raise AssertionError(f"figures read for {measure.code}")

    assert check_headline(OPERATION_WARRIOR, [ARRESTS, CHARGES], no_figures) == []


def test_a_count_without_its_window_is_not_checked():
    # Nine arrests over a week of action are not the quarter's arrests.
    assert check(ROBBERY_WEEK_OF_ACTION, [ARRESTS, CHARGES]) == []


# --- How numbers are read -------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Recorded homicides: −39% against the baseline.",
        "Recorded homicides: -39% against the baseline.",
        "Homicides show a 39% reduction against the baseline.",
        "Homicides show a 39% decrease on the baseline.",
        "Homicides are 39% lower than the baseline.",
        "Homicides fell by 39% against the baseline.",
        "Homicides are down 39% on the baseline.",
        "Homicides saw a reduction of 39% compared with the baseline.",
        "Homicides are −39.1% against the baseline.",
        "Homicides fell by around 40% against the baseline.",
    ],
)
def test_a_fall_matches_the_change_against_the_baseline(sentence):
    [finding] = check(sentence)
    assert (finding.measure_code, finding.kind, finding.matches) == (
        "homicides",
        "change_pct",
        True,
    )


@pytest.mark.parametrize(
    ("sentence", "number_text"),
    [
        ("Homicides show a 39% increase against the baseline.", "39% increase"),
        ("Homicides are +39% against the baseline.", "+39%"),
        ("Homicides are −40% against the baseline.", "−40%"),
        ("Homicides are −39.2% against the baseline.", "−39.2%"),
        ("Homicides fell by circa 41% against the baseline.", "fell by circa 41%"),
    ],
)
def test_a_wrong_sign_or_figure_is_a_mismatch(sentence, number_text):
    [finding] = check(sentence)
    assert (finding.number_text, finding.matches) == (number_text, False)


def test_the_expected_text_gives_the_figure_and_its_rounding_to_the_typed_precision():
    [finding] = check("Homicides are −40% against the baseline.")
    assert finding.expected_text == "-39.1% (12 months vs baseline; rounds to -39%)"


def test_a_change_without_a_base_matches_either_base():
    [vs_previous_year] = check("Homicides fell by 12.5% in the last 12 months.")
    [vs_baseline] = check("Homicides fell by 39.1% in the last 12 months.")
    assert vs_previous_year.matches and vs_baseline.matches
    [wrong] = check("Homicides fell by 20% in the last 12 months.")
    assert wrong.expected_text == (
        "-12.5% (12 months vs previous year; rounds to -13%) or "
        "-39.1% (12 months vs baseline; rounds to -39%)"
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "Cyber crime has risen by +4.7% against the baseline.",
        "Online crimes show an increase of 4.7% on the baseline.",
        "Recorded online/cyber-enabled crimes are up 4.7% on the baseline.",
        "Cyber-enabled crimes: 4.7% higher than the baseline.",
        "Cyber crime has risen by almost 5% against the baseline.",
    ],
)
def test_a_rise_matches_the_cyber_crime_change(sentence):
    [finding] = check(sentence)
    assert (finding.measure_code, finding.kind, finding.matches) == (
        "cyber-crime",
        "change_pct",
        True,
    )


def test_year_to_date_percentages_round_to_the_typed_precision():
    # −19.63% year to date: "20% lower" and "19.6% lower" match, "19.7% lower" does not.
    def asb(sentence):
        return found(check(sentence, [ASB_INCIDENTS]))

    assert asb("ASB incidents are 20% lower than the previous financial year to date.") == [
        ("20% lower", "asb-incidents", True)
    ]
    assert asb("ASB incidents are 19.6% lower year to date.") == [
        ("19.6% lower", "asb-incidents", True)
    ]
    assert asb("ASB incidents are 19.7% lower year to date.") == [
        ("19.7% lower", "asb-incidents", False)
    ]


def test_half_is_rounded_up():
    figures_of = {"da-victim-satisfaction": MeasureFigures(rolling_12_months=Decimal("82.45"))}
    text = "DA victim satisfaction is 82.5% for the last 12 months."
    [finding] = check_headline(text, [DA_VICTIM_SATISFACTION], lambda m: figures_of[m.code])
    assert finding.matches


@pytest.mark.parametrize(
    ("sentence", "matches"),
    [
        ("DA victim satisfaction remains circa 83%.", True),
        ("DA victim satisfaction remains around 82%.", True),
        ("DA victim satisfaction remains about 84%.", True),
        ("DA victim satisfaction remains circa 81%.", False),
        ("DA victim satisfaction remains 82%.", False),
        ("DA victim satisfaction remains over 80%.", True),
        ("DA victim satisfaction remains over 85%.", False),
    ],
)
def test_approximate_and_bounded_rates(sentence, matches):
    [finding] = check(sentence)
    assert (finding.kind, finding.matches) == ("rate", matches)


def test_percentage_points_are_compared_with_the_change_in_points():
    [fall] = check("DA victim satisfaction is down 2.8 percentage points on the baseline.")
    [rise] = check("Victim satisfaction has risen by 0.4pp against the baseline.")
    [wrong] = check("DA victim satisfaction is −2 ppts on the baseline.")
    assert (fall.kind, fall.matches) == ("change_pp", True)
    assert (rise.kind, rise.matches) == ("change_pp", True)
    assert (wrong.matches, wrong.expected_text) == (
        False,
        "-2.8 pp (12 months vs baseline; rounds to -3 pp)",
    )


def test_thousands_separators_and_old_values():
    # "down from 16,127" is the base of the change, not a figure for now.
    text = (
        "Neighbourhood crime totalled 15,627 in the 12 months to December 2022, down from 16,127."
    )
    findings = check(text, extra_aliases={"neighbourhood-crime": ["neighbourhood crime"]})
    assert found(findings) == [("15,627", "neighbourhood-crime", True)]


def test_phone_numbers_and_numbers_of_other_things_are_ignored():
    text = (
        "Homicides: 2 recorded in the last quarter, with 8 arrests; call 0800 555 111 "
        "with information."
    )
    assert found(check(text)) == [("2", "homicides", True)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Homicides are 10% below the national average.",
        "Homicides in Blackpool fell by 50% in the last 12 months.",
        "Homicides have fallen 20% since the last update.",
        "Homicides were 30% higher than in 2019.",
        "Homicides rose by 50% on the previous quarter.",
        "There were 5 homicides recorded over the week of action.",
        "There were 5 more homicides recorded in Quarter 3.",
    ],
)
def test_comparisons_the_figures_do_not_hold_are_not_checked(sentence):
    assert check(sentence, other_areas=["Blackpool"]) == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Homicides fell to 14 in the last 12 months, while knife crime rose 12%.",
            [("14", "homicides", True)],
        ),
        (
            "Homicides fell 39% against the baseline and knife crime rose 12%.",
            [("fell 39%", "homicides", True)],
        ),
        (
            "Homicides fell to 14 in the last 12 months and were 39% below the baseline.",
            [("14", "homicides", True), ("39% below", "homicides", True)],
        ),
        # Two measures, one number and no "respectively": which one is meant is unclear.
        ("Levels for DA victims and Overall victims remain circa 83%.", []),
    ],
)
def test_a_number_is_tied_only_to_the_measure_its_clause_is_about(sentence, expected):
    assert found(check(sentence)) == expected


def test_figures_are_read_once_per_measure_and_only_for_measures_with_numbers():
    calls: list[str] = []

    def counting(measure):
        calls.append(measure.code)
        return figures(measure)

    check_headline(NATIONAL_PICTURE + "\n" + NATIONAL_PICTURE, NATIONAL_PICTURE_MEASURES, counting)
    assert sorted(calls) == [
        "da-victim-satisfaction",
        "firearms-discharges",
        "homicides",
        "victim-satisfaction",
    ]


# --- Names and messages ---------------------------------------------------------------------


def test_aliases_are_derived_from_the_measure_name():
    assert {"homicides", "homicide"} <= set(derive_aliases("Recorded Homicides"))
    da = derive_aliases("% DA Victims Satisfied (internal surveys)")
    assert {"da victims", "da victim satisfaction", "da victims satisfied"} <= set(da)
    overall = derive_aliases("% Victims Satisfied (internal surveys)")
    assert "overall victims" in overall
    assert "victims" not in overall  # "31% of homicide victims" is not a satisfaction rate
    assert "cyber crime" in derive_aliases("Recorded Online/Cyber-enabled crimes")
    assert "residential burglary" in derive_aliases("Burglary Residential")


def test_summarise_lists_only_the_mismatches():
    findings = check(
        "Homicides are −40% against the baseline. There have been two homicides recorded in "
        "Quarter 3. Levels for DA victims remain circa 79%."
    )
    assert summarise(findings, section="National Picture") == (
        "Key Headlines: National Picture: '−40%' for Recorded Homicides, but the figures give "
        "-39.1% (12 months vs baseline; rounds to -39%); 'circa 79%' for % DA Victims "
        "Satisfied (internal surveys), but the figures give 82.5% (12 months; rounds to 83%)"
    )
    assert summarise(check(NATIONAL_PICTURE)) == ""
