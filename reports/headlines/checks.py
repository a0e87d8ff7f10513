"""Check the numbers typed into Key Headlines against the figures the system computes.

SPEC §4: a figure typed into a headline ("−39%", "2 recorded in the last quarter", "circa
83%") that differs from the computed figure is flagged, and the flag blocks publishing. This
module finds the numbers a headline ties to one of its priority's measures and compares them
with `MeasureFigures`, which the caller fills from the selectors. It is pure: no ORM.

A false alarm blocks an analyst's report while a missed check costs less, so a number is only
read when its meaning is plain:

- **Which measure.** The number's clause names exactly one measure ("two homicides recorded
  in Quarter 3"), or the sentence names one and the clause only continues it ("…, with 2
  recorded in the last quarter"); "A and B remain 83% and 70% respectively" pairs in order.
- **What kind of figure.** A percentage with a sign or a change word ("−39%", "39%
  reduction", "increase of 4.7%") is a change_pct; "percentage points"/"pp"/"ppts" a
  change_pp; an unsigned percentage of a percent measure is its rate ("sitting at 83%"). A
  count is read only when it counts the measure ("14 homicides", "2 recorded", "fell to 14")
  and the text says over which window ("in Quarter 3", "in the last 12 months", "year to
  date"): "nine arrests" during a week of action is not the quarter's arrests.
- **Never a figure.** Shares ("31% of homicide victims"), old values ("from 60%"), dates,
  years, ordinals, durations ("3-year period"), labels ("Quarter 3"), money and phone numbers.
- **Not ours to check.** Comparisons the figures do not hold: national averages, districts,
  named years, other months, quarter on quarter, "since the last update".

A typed number matches when the computed figure, rounded half up to the places typed, equals
it; "circa", "around", "almost" … allow one unit either way in the last typed digit; "over"
and "under" are bounds. When the text does not say which window or base it means, the number
matches if any figure it could mean matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

from measures.arithmetic.formatting import (
    format_change_pct,
    format_change_pp,
    format_value,
    round_half_up,
)

__all__ = [
    "Finding",
    "MeasureFigures",
    "MeasureLike",
    "check_headline",
    "derive_aliases",
    "summarise",
]

Kind = Literal["count", "rate", "change_pct", "change_pp"]
Bound = Literal["exact", "approx", "at_least", "at_most"]


class MeasureLike(Protocol):
    """What the checks read of a measure: `measures.models.Measure` fits."""

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def unit(self) -> str: ...

    @property
    def decimals(self) -> int: ...


M = TypeVar("M", bound=MeasureLike)


@dataclass(frozen=True, kw_only=True)
class MeasureFigures:
    """The computed figures a headline may quote for one measure, unrounded.

    For percent measures the values are rates (the rolling 12 months value is the rolling 12
    months rate) and changes also come in percentage points. Leave unknown figures as None;
    a number that could only mean missing figures is not checked.
    """

    rolling_12_months: Decimal | None = None
    rolling_12_months_change_pct_vs_previous_year: Decimal | None = None
    rolling_12_months_change_pp_vs_previous_year: Decimal | None = None
    rolling_12_months_change_pct_vs_baseline: Decimal | None = None
    rolling_12_months_change_pp_vs_baseline: Decimal | None = None
    financial_year_to_date: Decimal | None = None
    financial_year_to_date_change_pct: Decimal | None = None
    financial_year_to_date_change_pp: Decimal | None = None
    # The latest quarter: its total for counts, its rate for percent measures.
    latest_quarter: Decimal | None = None
    # 1–4 in the financial year, so that "Quarter 3" is only read as the latest quarter
    # when it is; None leaves numbered quarters unchecked.
    latest_quarter_number: int | None = None
    latest_month: Decimal | None = None
    # "December", so that "in December" is only read as the latest month when it is.
    latest_month_name: str | None = None


@dataclass(frozen=True)
class Finding:
    """A number typed into a headline, the measure it refers to and whether it agrees."""

    sentence: str
    number_text: str  # as typed, with its qualifier or change word: "circa 83%", "39% reduction"
    measure_code: str
    expected_text: str  # the computed figure: "-39.1% (12 months vs baseline; rounds to -39%)"
    matches: bool
    kind: Kind
    measure_name: str = ""


def check_headline(
    text: str,
    measures: Sequence[M],
    figures: Callable[[M], MeasureFigures],
    *,
    extra_aliases: Mapping[str, Iterable[str]] | None = None,
    other_areas: Iterable[str] = (),
) -> list[Finding]:
    """Return a finding for every number in `text` that refers to one of `measures`.

    `figures` is called at most once per measure, and only for measures that a number refers
    to. `extra_aliases` adds names by measure code ("neighbourhood crime"); a clause naming one
    of `other_areas` (districts, other forces) is about figures the check does not hold.
    """
    by_code = {measure.code: measure for measure in measures}
    aliases = _alias_patterns(measures, extra_aliases or {})
    elsewhere = _words_pattern(other_areas)
    known: dict[str, MeasureFigures] = {}
    findings: list[Finding] = []
    for sentence in _sentences(text):
        mentions = _mentions(sentence, aliases)
        if not mentions:
            continue
        for code, reading in _readings(sentence, mentions, by_code):
            measure = by_code[code]
            if code not in known:
                known[code] = figures(measure)
            cues = _cues_for(sentence, reading.start, elsewhere)
            candidates = _candidates(reading, cues, known[code], measure.unit == "percent")
            if candidates:
                findings.append(_finding(sentence, reading, measure, candidates))
    return findings


def summarise(findings: Iterable[Finding], *, section: str = "") -> str:
    """Return the mismatches as one message for a publishing error, or "" when there are none.

    "Key Headlines: National Picture: '-39%' for Recorded Homicides, but the figures give
    -39.1% (12 months vs baseline; rounds to -39%)"
    """
    mismatches = [
        f"'{finding.number_text}' for {finding.measure_name or finding.measure_code}, "
        f"but the figures give {finding.expected_text}"
        for finding in findings
        if not finding.matches
    ]
    if not mismatches:
        return ""
    heading = f"Key Headlines: {section}: " if section else "Key Headlines: "
    return heading + "; ".join(mismatches)


# --- Naming measures ---------------------------------------------------------------------

# Text in brackets: "(internal surveys)", "(kg)", "(answered within 10 seconds)".
_BRACKETED = re.compile(r"\([^)]*\)")
# Words that open a name but that headlines leave out: "Recorded Homicides" → "homicides".
_LEADING_WORDS = re.compile(r"^(?:recorded|number of|total)\s+")
# Alternatives joined by a slash: "online/cyber-enabled crimes".
_SLASHED = re.compile(r"([\w-]+)/([\w-]+)")
# A qualifying suffix headlines drop: "cyber-enabled crimes" → "cyber crimes".
_QUALIFYING_SUFFIX = re.compile(r"-(?:enabled|related|flagged|based)\b")
# Trailing participles that headlines leave out: "999 calls presented" → "999 calls".
_TRAILING_PARTICIPLES = frozenset(
    {"presented", "recorded", "obtained", "seized", "held", "safeguarded", "issued", "finalised"}
)
# Endings of words that have no plural to toggle: "satisfied", "personal", "major",
# "business", "cannabis", "overall".
_NOT_NOUN_ENDINGS = ("ed", "al", "or", "ss", "us", "is", "all")
# Words that do not lead a flipped name: "all crime" is not "crime all".
_DETERMINERS = frozenset({"all", "overall", "total"})
# Heads too vague to name a measure alone ("rates of …").
_VAGUE_HEADS = frozenset({"levels", "numbers", "rates", "totals", "volumes", "proportions"})


def derive_aliases(name: str) -> tuple[str, ...]:
    """Return the phrases, in lower case, by which a headline may name a measure.

    "Recorded Homicides" gives "recorded homicides", "homicides", "homicide" …; "% DA Victims
    Satisfied (internal surveys)" gives "da victims satisfied", "da victim satisfaction",
    "satisfied da victims" and "da victims". A one-word subject is only named with "overall"
    ("overall victims"), so that "31% of homicide victims" is not read as a satisfaction rate.
    A list of offences ("Burglary, Robbery, …") is only named in full.
    """
    full = " ".join(_BRACKETED.sub(" ", name).replace("%", " ").split()).lower()
    if not full:
        return ()
    if "," in full:
        return (full,)
    core = _LEADING_WORDS.sub("", full)
    variants = {core, *_slash_variants(core)}
    variants |= {_QUALIFYING_SUFFIX.sub("", variant) for variant in variants}
    aliases = {full}
    for variant in variants:
        aliases |= _phrasings(variant.split())
    return tuple(sorted(aliases))


def _slash_variants(phrase: str) -> set[str]:
    """Return `phrase` with each "a/b" replaced by a and by b."""
    match = _SLASHED.search(phrase)
    if not match:
        return set()
    head, tail = phrase[: match.start()], phrase[match.end() :]
    return {f"{head}{match.group(1)}{tail}", f"{head}{match.group(2)}{tail}"}


def _phrasings(words: list[str]) -> set[str]:
    """Return the ways of writing a name of `words`: plurals, word order, satisfaction."""
    if not words:
        return set()
    phrasings = {" ".join(words), " ".join(_other_number(words))}
    last = words[-1]
    if last == "satisfied" and len(words) >= 2:
        phrasings |= _satisfaction_phrasings(words[:-1])
    elif last in _TRAILING_PARTICIPLES and len(words) >= 3:
        phrasings |= _phrasings(words[:-1])
    if "of" in words[1:]:
        head = words[: words.index("of", 1)]
        if len(head) == 1 and head[0].endswith("s") and head[0] not in _VAGUE_HEADS:
            phrasings.add(head[0])  # "discharges of …"
    first, *rest = words
    if (
        len(rest) == 1
        and _is_qualifier(rest[0])
        and _is_qualifier(first)
        and first not in _DETERMINERS
    ):
        flipped = [rest[0], first]  # "burglary residential" → "residential burglary"
        phrasings |= {" ".join(flipped), " ".join(_other_number(flipped))}
    return phrasings


def _is_qualifier(word: str) -> bool:
    """Return whether a word can be moved before or after a singular noun."""
    return word.isalpha() and len(word) > 2 and _singular(word) == word


def _satisfaction_phrasings(subject: list[str]) -> set[str]:
    """Return how headlines name "<subject> satisfied": "victim satisfaction", …"""
    who = " ".join(subject)
    singular = " ".join([*subject[:-1], _singular(subject[-1])])
    named = {f"satisfied {who}", f"{who} satisfaction", f"{singular} satisfaction"}
    named.add(who if len(subject) >= 2 else f"overall {who}")
    return named


def _other_number(words: list[str]) -> list[str]:
    """Return `words` with the last word made plural, or singular when it is plural."""
    last = words[-1]
    if (
        not last.isalpha()
        or len(last) < 3
        or last.endswith(_NOT_NOUN_ENDINGS)
        or last in _TRAILING_PARTICIPLES
    ):
        return words
    if last.endswith("s"):
        return [*words[:-1], _singular(last)]
    if last.endswith("y") and last[-2] not in "aeiou":
        return [*words[:-1], last[:-1] + "ies"]
    if last.endswith(("sh", "ch", "x")):
        return [*words[:-1], last + "es"]
    return [*words[:-1], last + "s"]


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _alias_patterns(
    measures: Sequence[MeasureLike], extra_aliases: Mapping[str, Iterable[str]]
) -> list[tuple[str, re.Pattern[str]]]:
    """Return (code, pattern) for every alias; words may be joined by spaces or punctuation."""
    patterns = []
    for measure in measures:
        aliases = {*derive_aliases(measure.name), *extra_aliases.get(measure.code, ())}
        for alias in aliases:
            pattern = _words_pattern([alias])
            if pattern:
                patterns.append((measure.code, pattern))
    return patterns


def _words_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """Return a pattern for any of `phrases` as whole words, or None when there are none."""
    alternatives = []
    for phrase in phrases:
        words = re.findall(r"\w+", phrase.lower())
        if words:
            # "lethal barrelled" also matches "lethal, barrelled" and "victims’ satisfaction".
            alternatives.append(r"\W{1,3}".join(map(re.escape, words)))
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    code: str


def _mentions(sentence: str, aliases: list[tuple[str, re.Pattern[str]]]) -> list[_Mention]:
    """Return where `sentence` names measures; the longest name wins where names overlap.

    A phrase that names two measures equally is ambiguous and is left out.
    """
    found: dict[tuple[int, int], set[str]] = {}
    for code, pattern in aliases:
        for match in pattern.finditer(sentence):
            found.setdefault(match.span(), set()).add(code)
    chosen: list[_Mention] = []
    for (start, end), codes in sorted(found.items(), key=lambda item: item[0][0] - item[0][1]):
        if any(start < other.end and other.start < end for other in chosen):
            continue
        if len(codes) == 1:
            chosen.append(_Mention(start, end, codes.pop()))
        else:
            chosen.append(_Mention(start, end, ""))  # claims the words, names no measure
    return sorted((mention for mention in chosen if mention.code), key=lambda m: m.start)


# --- Sentences and clauses ---------------------------------------------------------------

# Markdown that does not change the words: bold markers and links ("[text](url)" → text).
_BOLD = re.compile(r"\*\*|__")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# A line that starts a bullet: "- ", "* ", "• " or "1. ".
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+\.)\s+")
# A heading line: "## Adult Rape". It stands alone, never the start of the next sentence.
_HEADING = re.compile(r"^\s*#{1,6}\s+")
# The end of a sentence: . ! or ? (and closing quotes or brackets) before a space and a
# capital, digit or sign. "vs. the previous 12 months" goes on.
_SENTENCE_END = re.compile(r"[.!?](?P<close>[\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9£+\-−–])")
# Abbreviations whose full stop does not end a sentence: "c. 83%", "approx. 70%", "No. 3".
_ABBREVIATION = re.compile(r"\b(?:c|ca|approx|vs|v|e\.g|i\.e|no|nos|op|ops|st|inc|fig)\.$", re.I)
# Where a clause ends: punctuation (not the comma in "16,127"), a spaced dash, brackets and
# the conjunctions that start a new statement.
_CLAUSE_BREAK = re.compile(
    r",(?!\d{3}\b)|[;:()\[\]]|\s[–—-]\s|\b(?:but|while|whilst|whereas|although|though)\b",
    re.IGNORECASE,
)
# "and" may join two statements ("homicides fell 39% and knife crime rose 12%") or two
# subjects ("DA victims and overall victims remain 83%"), so it only narrows a clause.
_AND = re.compile(r"\band\b", re.IGNORECASE)


def _sentences(text: str) -> list[str]:
    """Return the sentences of a headline text, bullet by bullet, without markdown."""
    text = _LINK.sub(r"\1", _BOLD.sub("", text))
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip():
            blocks.append([])
        elif _HEADING.match(line):
            blocks += [[_HEADING.sub("", line, count=1).strip()], []]
        elif _BULLET.match(line):
            blocks.append([_BULLET.sub("", line, count=1)])
        elif blocks:
            blocks[-1].append(line.strip())
        else:
            blocks.append([line.strip()])
    sentences: list[str] = []
    for block in blocks:
        sentences += _split_sentences(" ".join(block))
    return sentences


def _split_sentences(paragraph: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        end = match.end("close")
        if _ABBREVIATION.search(paragraph[start:end]):
            continue
        pieces.append(paragraph[start:end].strip())
        start = match.end()
    pieces.append(paragraph[start:].strip())
    return [piece for piece in pieces if piece]


def _clause_at(sentence: str, position: int, *, at_and: bool = False) -> tuple[int, int]:
    """Return the (start, end) of the clause of `sentence` around `position`."""
    start, end = 0, len(sentence)
    for match in _CLAUSE_BREAK.finditer(sentence):
        if match.end() <= position:
            start = match.end()
        elif match.start() >= position:
            end = match.start()
            break
    if at_and:
        for match in _AND.finditer(sentence, start, end):
            if match.end() <= position:
                start = match.end()
            elif match.start() >= position:
                end = match.start()
                break
    return start, end


# --- Numbers ------------------------------------------------------------------------------

_MONTH = (
    r"(?-i:January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b"
)
# A number as typed: a sign ("−39%", "- 3 percentage points"), digits with thousands
# separators ("16,127") and decimals, and a unit ("%", "per cent", "percentage points",
# "pp", "ppts"). Not the tail of a word or code ("ADR722", "Q3"), a decimal, a fraction
# ("NIP/172") or a sum of money ("£30801").
_NUMBER = re.compile(
    r"""
    (?<![\w.,/£$€'’])
    (?P<sign>[+\-−](?:\ (?=\d))?|–(?=\d))?
    (?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)
    (?P<unit>
        \ ?(?:%|per\ ?cent\b)
      | \ ?(?:percentage\ points?|ppts?|pts?|pp)\b
    )?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        (
            "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
            "eighteen", "nineteen", "twenty",
        ),
        start=1,
    )
}  # fmt: skip
# A count written in words: "two homicides".
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(_NUMBER_WORDS) + r")\b(?!-)", re.IGNORECASE)
# After a number, what shows it is not a figure: letters or digits glued on ("290k", "17th"),
# a spaced ordinal ("1 st April"), a range ("10- 17th"), a fraction or date ("01/04/2019",
# "2021/22"), a duration or multiple ("3-year period", "12 months", "4 x"), a month ("31
# January"), or more digits of a phone number ("01772 614444").
_GLUED_AFTER = re.compile(r"[A-Za-z0-9]")
_ORDINAL_AFTER = re.compile(r"\s(?:st|nd|rd|th)\b", re.IGNORECASE)
_RANGE_AFTER = re.compile(r"\s?[-–]\s?\d")
_FRACTION_AFTER = re.compile(r"/\d")
_DURATION_AFTER = re.compile(
    r"[\s-]+(?:years?|yrs?|months?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?"
    r"|times|x)\b",
    re.IGNORECASE,
)
_DATE_AFTER = re.compile(r"\s+(?:of\s+)?" + _MONTH)
_DIGITS_AFTER = re.compile(r"\s\d")
# Before a number: a month ("December 2022", "January 31"), the first part of a compound or
# range ("COVID-19", "13-17"), more digits of a phone number, or a label ("Quarter 3",
# "Operation 2", "No. 5").
_DATE_BEFORE = re.compile(_MONTH + r"\s+$")
_COMPOUND_BEFORE = re.compile(r"\w[-–]$")
_DIGITS_BEFORE = re.compile(r"\d\s$")
_LABEL_BEFORE = re.compile(
    r"\b(?:quarter|qtr|q|operation|op|phase|tier|stage|version|page|section|priority"
    r"|chapter|figure|table|step|no\.?|number|class|category|junction|route)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Number:
    start: int
    end: int
    value: Decimal  # as typed, with its written sign
    places: int
    signed: bool
    unit: Literal["", "%", "pp"]


def _numbers(sentence: str, mentions: list[_Mention]) -> list[_Number]:
    """Return the numbers of `sentence` that could be figures, outside measure names."""
    numbers = [_digits(match) for match in _NUMBER.finditer(sentence)]
    numbers = [number for number in numbers if not _not_a_figure(sentence, number)]
    for match in _NUMBER_WORD.finditer(sentence):
        if not _DURATION_AFTER.match(sentence, match.end()):
            value = Decimal(_NUMBER_WORDS[match.group().lower()])
            numbers.append(_Number(match.start(), match.end(), value, 0, False, ""))
    return sorted(
        (n for n in numbers if not any(m.start <= n.start < m.end for m in mentions)),
        key=lambda number: number.start,
    )


def _digits(match: re.Match[str]) -> _Number:
    digits = match.group("digits").replace(",", "")
    sign = (match.group("sign") or "").strip()
    unit_text = (match.group("unit") or "").strip().lower()
    unit: Literal["", "%", "pp"] = ""
    if unit_text:
        unit = "%" if unit_text == "%" or unit_text.startswith("per") else "pp"
    value = Decimal(digits)
    return _Number(
        start=match.start(),
        end=match.end(),
        value=-value if sign in {"-", "−", "–"} else value,
        places=len(digits.partition(".")[2]),
        signed=bool(sign),
        unit=unit,
    )


def _not_a_figure(sentence: str, number: _Number) -> bool:
    """Return whether the number is a date, year, ordinal, duration, label, range or code."""
    before, end = sentence[: number.start], number.end
    if _COMPOUND_BEFORE.search(before):
        return True
    if number.unit:
        return False
    digits = sentence[number.start : number.end].lstrip("+-−– ")
    is_year = len(digits) == 4 and digits.isdigit() and 1900 <= int(digits) <= 2099
    is_phone = digits.startswith("0") and len(digits) > 1 and digits.isdigit()
    return bool(
        is_year
        or is_phone
        or _GLUED_AFTER.match(sentence, end)
        or _ORDINAL_AFTER.match(sentence, end)
        or _RANGE_AFTER.match(sentence, end)
        or _FRACTION_AFTER.match(sentence, end)
        or _DURATION_AFTER.match(sentence, end)
        or _DATE_AFTER.match(sentence, end)
        or _DIGITS_AFTER.match(sentence, end)
        or _DATE_BEFORE.search(before)
        or _DIGITS_BEFORE.search(before)
        or _LABEL_BEFORE.search(before)
    )


# --- Which measure a number refers to -----------------------------------------------------

# Words that turn "5 … homicides" into a change rather than a count.
_CHANGE_COUNT_WORDS = frozenset({"more", "fewer", "less", "additional", "extra"})
# Words a clause may open with and still be about the sentence's measure: "…, with 2
# recorded", "… – sitting at 83%", "…, −39% against the baseline", "…, an increase of 4.7%".
_CONTINUING_WORDS = frozenset(
    {
        "with", "at", "to", "sitting", "standing", "remaining", "reaching", "representing",
        "equating", "which", "is", "was", "were", "are", "now", "currently", "still",
        "stood", "stands", "remain", "remains", "remained", "has", "have", "been", "being",
        "down", "up", "by", "a", "an", "of", "slight", "small", "further", "increase",
        "reduction", "decrease", "rise", "fall", "drop", "circa", "c", "around", "about",
        "almost", "nearly", "approximately", "approx", "roughly", "just", "over", "under",
    }
)  # fmt: skip
_RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
# The gap between a number and a measure's name: spaces, or one word between spaces.
_SPACE = re.compile(r"\s+")
_ONE_WORD = re.compile(r"\s+(?P<word>[A-Za-z][\w-]*)\s+")


def _readings(
    sentence: str, mentions: list[_Mention], measures: Mapping[str, MeasureLike]
) -> list[tuple[str, _Reading]]:
    """Return (measure code, reading) for the numbers of `sentence` that refer to a measure."""
    numbers = _numbers(sentence, mentions)
    paired, listed = _respectively(sentence, numbers, mentions)
    readings: list[tuple[str, _Reading]] = []
    list_bound: Bound | None = None
    for number in numbers:
        if number in listed:
            code = paired.get(number)
            named_after = False
        else:
            code, named_after = _measure_of(sentence, number, mentions)
        if not code:
            continue
        reading = _read(sentence, number, measures[code].unit, named_after=named_after)
        if reading is None:
            continue
        if number in listed:
            # "circa 83% and 70% respectively": the qualifier covers the whole list.
            if list_bound is None:
                list_bound = reading.bound
            elif reading.bound == "exact":
                reading = replace(reading, bound=list_bound)
        readings.append((code, reading))
    return readings


def _respectively(
    sentence: str, numbers: list[_Number], mentions: list[_Mention]
) -> tuple[dict[_Number, str], set[_Number]]:
    """Pair "A and B … x and y respectively" in order; return the pairs and the listed numbers.

    When the list has as many numbers as measures named before it, each number goes with the
    measure in the same place (ordered by its last naming before the list); otherwise the
    listed numbers refer to no measure.
    """
    found = _RESPECTIVELY.search(sentence)
    if not found or len({mention.code for mention in mentions}) < 2:
        return {}, set()
    before = [mention for mention in mentions if mention.end <= found.start()]
    if not before:
        return {}, set()
    list_start = max(mention.end for mention in before)
    listed = [n for n in numbers if list_start <= n.start and n.end <= found.start()]
    last_named = {mention.code: mention.start for mention in before}
    codes = sorted(last_named, key=last_named.__getitem__)
    if len(listed) != len(codes):
        return {}, set(listed)
    return dict(zip(listed, codes, strict=True)), set(listed)


def _measure_of(
    sentence: str, number: _Number, mentions: list[_Mention]
) -> tuple[str | None, bool]:
    """Return the measure the number refers to, and whether it is named right after it.

    "two homicides" names it right after the number (one word may come between); otherwise
    the number's clause must name exactly one measure, or continue a sentence that names one
    ("…, with 2 recorded"), and not be a statement about something else ("… and knife crime
    rose 12%").
    """
    named_after = _named_right_after(sentence, number, mentions)
    if named_after:
        return named_after, True
    in_sentence = {mention.code for mention in mentions}
    in_clause = _named_in(mentions, _clause_at(sentence, number.start))
    if len(in_clause) > 1 or (not in_clause and len(in_sentence) > 1):
        return None, False
    code = (in_clause or in_sentence).pop()
    # Within "…, and knife crime rose 12%" the number is about knife crime.
    start, end = _clause_at(sentence, number.start, at_and=True)
    opening = re.findall(r"[\w'’]+", sentence[start : number.start].lower())
    if _named_in(mentions, (start, end)) == {code} or set(opening) <= _CONTINUING_WORDS:
        return code, False
    return None, False


def _named_in(mentions: list[_Mention], clause: tuple[int, int]) -> set[str]:
    start, end = clause
    return {mention.code for mention in mentions if start <= mention.start < end}


def _named_right_after(sentence: str, number: _Number, mentions: list[_Mention]) -> str | None:
    """Return the measure named right after the number ("two homicides", "2 further …")."""
    starts = set()
    if direct := _SPACE.match(sentence, number.end):
        starts.add(direct.end())
    if (spaced := _ONE_WORD.match(sentence, number.end)) and (
        spaced.group("word").lower() not in _CHANGE_COUNT_WORDS
    ):
        starts.add(spaced.end())
    return next((mention.code for mention in mentions if mention.start in starts), None)


# --- What a number says -------------------------------------------------------------------

# Qualifiers before a number ("circa 83%", "almost 8%", "over 80", "under 5%").
_APPROXIMATELY_BEFORE = re.compile(
    r"\b(?:circa|c\.|ca\.|around|about|approximately|approx\.?|almost|nearly|roughly|some"
    r"|just\s+(?:over|under)|close\s+to)\s*$|~\s*$",
    re.IGNORECASE,
)
_AT_LEAST_BEFORE = re.compile(r"\b(?:over|more\s+than|in\s+excess\s+of|at\s+least)\s+$", re.I)
_AT_MOST_BEFORE = re.compile(r"\b(?:under|less\s+than|fewer\s+than|at\s+most|up\s+to)\s+$", re.I)
# "just under" is approximate, so approximations are looked for before bounds.
_QUALIFIERS: tuple[tuple[Bound, re.Pattern[str]], ...] = (
    ("approx", _APPROXIMATELY_BEFORE),
    ("at_least", _AT_LEAST_BEFORE),
    ("at_most", _AT_MOST_BEFORE),
)
# A change word before the number: "increase of 4.7%", "fell by 39%", "down 20%".
_CHANGE_BEFORE = re.compile(
    r"\b(?:(?P<noun>increase|rise|growth|uplift|reduction|decrease|fall|drop|decline|cut)s?"
    r"\s+(?:of|by)"
    r"|(?P<verb>increased|decreased|reduced|rose|risen|fell|fallen|dropped|declined|grew"
    r"|grown|up|down|lower|higher)(?:\s+by)?)\s+$",
    re.IGNORECASE,
)
# A change word after the number: "39% reduction", "8% below", "4.7% up".
_CHANGE_AFTER = re.compile(
    r"\s+(?:reduction|decrease|fall|drop|decline|cut|lower|below|less|fewer|down"
    r"|increase|rise|growth|uplift|higher|above|more|up)\b",
    re.IGNORECASE,
)
_RISING = frozenset(
    {"increase", "increases", "rise", "rises", "growth", "uplift", "increased", "rose",
     "risen", "grew", "grown", "up", "higher", "above", "more"}
)  # fmt: skip
# "from 60%", "down from 16,127": the old value of a change, not a figure for now.
_FROM_BEFORE = re.compile(r"\bfrom\s+$", re.IGNORECASE)
# "31% of homicide victims": a share of something, not the measure's figure.
_SHARE_AFTER = re.compile(r"\s+of\b", re.IGNORECASE)
# A count said to be recorded: "2 recorded in the last quarter", "14 were recorded".
_RECORDED_AFTER = re.compile(
    r"\s+(?:were\s+|have\s+been\s+|had\s+been\s+|being\s+)?(?:recorded|reported)\b", re.I
)
# A count given as the measure's level: "fell to 14", "stood at 14", "totalled 15,627" …
_LEVEL_BEFORE = re.compile(
    r"\b(?:to|at|reached|reaching|totall?ed|totall?ing|total\s+of|was|were|is|are)\s+$", re.I
)
# … when nothing follows that makes it a count of something else.
_LEVEL_END = re.compile(
    r"\s*(?:[,.;:)]|$)|\s+(?:in|for|during|over|this|since|compared|against|vs\.?|across"
    r"|between|by|from)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Reading:
    kind: Literal["count", "rate", "change", "change_pp"]  # "change": pct, or pp for rates
    typed: Decimal
    places: int
    bound: Bound
    start: int  # the span of the number with its qualifier and change word
    end: int


def _read(sentence: str, number: _Number, unit: str, *, named_after: bool) -> _Reading | None:
    """Return what the number says about a measure in `unit`, or None when it is no figure."""
    before, after = sentence[: number.start], sentence[number.end :]
    start, end = number.start, number.end
    bound, qualifier = _qualifier(before)
    if qualifier:
        start -= len(qualifier)
        before = before[: -len(qualifier)]
    if _FROM_BEFORE.search(before):
        return None
    direction = 0
    change = _CHANGE_BEFORE.search(before)
    if change:
        direction = _direction(change.group("noun") or change.group("verb"))
        start = change.start()
    elif following := _CHANGE_AFTER.match(after):
        direction = _direction(following.group().strip())
        end += following.end()
    changed = number.signed or bool(direction)
    typed = number.value if number.signed or direction >= 0 else -number.value

    kind: Literal["count", "rate", "change", "change_pp"]
    if number.unit == "pp":
        if unit != "percent" or not changed:
            return None
        kind = "change_pp"
    elif number.unit == "%":
        if _SHARE_AFTER.match(after) and not (unit == "percent" and named_after):
            return None
        if changed:
            kind = "change"
        elif unit == "percent":
            kind = "rate"
        else:
            return None
    else:
        if unit != "count" or changed:
            return None
        counted = named_after or _RECORDED_AFTER.match(after)
        if not counted and not (_LEVEL_BEFORE.search(before) and _LEVEL_END.match(after)):
            return None
        kind = "count"
    return _Reading(kind, typed, number.places, bound, start, end)


def _qualifier(before: str) -> tuple[Bound, str]:
    """Return the bound a qualifier before the number sets, and the qualifier as typed."""
    for bound, pattern in _QUALIFIERS:
        found = pattern.search(before)
        if found:
            return bound, before[found.start() :]
    return "exact", ""


def _direction(word: str) -> int:
    return 1 if word.lower() in _RISING else -1


# --- Which figures a number may mean ------------------------------------------------------

# Windows: "12 months (to December 2022)", "rolling 12 months"; "year to date", "YTD";
# "the last quarter", "Quarter 3", "Q3"; "in December", "the latest month".
_ROLLING = re.compile(
    r"\b(?:rolling\s+)?(?:12|twelve)[\s-]months?(?:\s+to\s+(?:the\s+)?(?:end\s+of\s+)?"
    + _MONTH
    + r"(?:\s+\d{4})?)?|\brolling\s+year\b",
    re.IGNORECASE,
)
_YEAR_TO_DATE = re.compile(
    r"\b(?:financial\s+)?year[\s-]to[\s-]date\b|\bf?ytd\b"
    r"|\bso\s+far\s+this\s+(?:financial\s+)?year\b",
    re.IGNORECASE,
)
_NUMBERED_QUARTER = re.compile(r"\b(?:quarter\s+|q)([1-4])\b", re.IGNORECASE)
# "the last quarter" is the latest; "last quarter" without "the" is the one before.
_LATEST_QUARTER = re.compile(
    r"\b(?:the\s+last|(?:the\s+)?latest|this|the\s+current|the\s+most\s+recent)\s+quarter\b",
    re.IGNORECASE,
)
_IN_MONTH = re.compile(
    r"\b(?:in|during)\s+(?P<month>" + _MONTH + r")(?:\s+\d{4})?(?!\s*(?:[-–]|to\b|and\b))",
    re.IGNORECASE,
)
_LATEST_MONTH = re.compile(
    r"\b(?:the\s+)?(?:latest|this|current)\s+month\b|\bthe\s+last\s+month\b", re.IGNORECASE
)
# Bases: the plan baseline, the previous year ("previous financial year to date", "year on
# year", "the previous 12 months").
_BASELINE = re.compile(r"\bbaseline\b", re.IGNORECASE)
_PREVIOUS_YEAR = re.compile(
    r"\b(?:previous|last|prior|preceding)\s+(?:financial\s+)?year\b|\byear[\s-]on[\s-]year\b"
    r"|\b(?:previous|prior|preceding)\s+(?:12|twelve)\s+months\b",
    re.IGNORECASE,
)
# Comparisons the figures do not hold: national or other areas, other periods (weeks,
# calendar years, the quarter before, "since the last update"), the pre-pandemic years, rates
# per head, and "last quarter"/"last month" meaning the one before.
_ELSEWHERE = re.compile(
    r"\bnational(?:ly)?\b|\baverages?\b|\bmost\s+similar\b|\bms[gf]\b|\bregion(?:al|ally)?\b"
    r"|\bdistricts?\b|\bdivisions?\b|\bbcus?\b|\bwards?\b|\bweek(?:s|ends?)?\b"
    r"|\bcalendar\s+year\b|\bsince\b|\b(?:last|latest)\s+(?:update|release)\b"
    r"|\bdata\s+release\b"
    r"|\bpre[\s-]pandemic\b|\bper\s+[\d,]+\b|\b(?:previous|prior|preceding|same)\s+quarter\b"
    r"|\bquarter[\s-]on[\s-]quarter\b|(?<!the\s)\blast\s+(?:quarter|month)\b",
    re.IGNORECASE,
)
# Other named periods: a year ("in 2019", "2021/22 levels"), a date, or a month not read as
# the latest month ("between Oct and December").
_OTHER_PERIOD = re.compile(
    r"(?<![\w/])(?:19|20)\d{2}(?:/\d{2})?(?![\w/])|\b\d{1,2}/\d{1,2}/\d{2,4}\b|" + _MONTH,
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Cues:
    windows: frozenset[str]  # "rolling", "fytd", "quarter", "month"
    bases: frozenset[str]  # "previous", "baseline"
    quarter_number: int | None
    month: str | None
    elsewhere: bool

    @property
    def said(self) -> bool:
        return bool(self.windows or self.bases or self.elsewhere)


def _cues_for(sentence: str, position: int, elsewhere: re.Pattern[str] | None) -> _Cues:
    """Return the periods named nearest the number: in its clause, else its sentence."""
    for start, end in (
        _clause_at(sentence, position, at_and=True),
        _clause_at(sentence, position),
        (0, len(sentence)),
    ):
        cues = _cues(sentence[start:end], elsewhere)
        if cues.said:
            break
    return cues


def _cues(text: str, other_areas: re.Pattern[str] | None) -> _Cues:
    windows, bases = set(), set()
    quarter_number, month = None, None
    if _ROLLING.search(text):
        windows.add("rolling")
        text = _ROLLING.sub(" ", text)
    if _YEAR_TO_DATE.search(text):
        windows.add("fytd")
    if numbered := _NUMBERED_QUARTER.search(text):
        windows.add("quarter")
        quarter_number = int(numbered.group(1))
    if _LATEST_QUARTER.search(text):
        windows.add("quarter")
    if named := _IN_MONTH.search(text):
        windows.add("month")
        month = named.group("month")
        text = _IN_MONTH.sub(" ", text)
    if _LATEST_MONTH.search(text):
        windows.add("month")
    if _BASELINE.search(text):
        bases.add("baseline")
    if _PREVIOUS_YEAR.search(text):
        bases.add("previous")
    elsewhere = bool(
        _ELSEWHERE.search(text)
        or _OTHER_PERIOD.search(text)
        or (other_areas and other_areas.search(text))
    )
    return _Cues(frozenset(windows), frozenset(bases), quarter_number, month, elsewhere)


@dataclass(frozen=True)
class _Candidate:
    kind: Kind
    label: str
    value: Decimal


def _candidates(
    reading: _Reading, cues: _Cues, figures: MeasureFigures, percent: bool
) -> list[_Candidate]:
    """Return the computed figures the number may mean; empty when it cannot be checked."""
    if cues.elsewhere:
        return []
    if reading.kind in {"change", "change_pp"}:
        options = _change_options(reading, cues, figures, percent)
    else:
        options = _level_options(reading, cues, figures)
    return [_Candidate(kind, label, value) for kind, label, value in options if value is not None]


def _change_options(
    reading: _Reading, cues: _Cues, figures: MeasureFigures, percent: bool
) -> list[tuple[Kind, str, Decimal | None]]:
    if cues.windows - {"rolling", "fytd"}:
        return []  # changes over a quarter or a month are not among the figures
    windows = cues.windows or {"rolling", "fytd"}
    bases = cues.bases or {"previous", "baseline"}
    f = figures  # short, so that each option fits on its line
    options: list[tuple[str, str, Kind, str, Decimal | None]] = [
        ("rolling", "previous", "change_pp", "12 months vs previous year",
         f.rolling_12_months_change_pp_vs_previous_year),
        ("rolling", "previous", "change_pct", "12 months vs previous year",
         f.rolling_12_months_change_pct_vs_previous_year),
        ("rolling", "baseline", "change_pp", "12 months vs baseline",
         f.rolling_12_months_change_pp_vs_baseline),
        ("rolling", "baseline", "change_pct", "12 months vs baseline",
         f.rolling_12_months_change_pct_vs_baseline),
        ("fytd", "previous", "change_pp", "year to date vs previous year",
         f.financial_year_to_date_change_pp),
        ("fytd", "previous", "change_pct", "year to date vs previous year",
         f.financial_year_to_date_change_pct),
    ]  # fmt: skip
    # A typed "%" change of a percent measure may be either; "pp" is only percentage points.
    kinds = {"change_pp"} if reading.kind == "change_pp" else {"change_pct"}
    if percent and reading.kind == "change":
        kinds = {"change_pp", "change_pct"}
    return [
        (kind, label, value)
        for window, base, kind, label, value in options
        if window in windows and base in bases and kind in kinds
    ]


def _level_options(
    reading: _Reading, cues: _Cues, figures: MeasureFigures
) -> list[tuple[Kind, str, Decimal | None]]:
    if cues.bases:
        return []  # a level beside a base is the base's level as often as the current one
    windows = set(cues.windows)
    if not windows:
        if reading.kind == "count":
            return []  # a count means nothing without its window
        windows = {"rolling", "fytd", "quarter", "month"}
    kind: Kind = "count" if reading.kind == "count" else "rate"
    options: list[tuple[Kind, str, Decimal | None]] = []
    if "rolling" in windows:
        options.append((kind, "12 months", figures.rolling_12_months))
    if "fytd" in windows:
        options.append((kind, "year to date", figures.financial_year_to_date))
    if "quarter" in windows and _is_latest_quarter(cues, figures):
        label = f"Q{figures.latest_quarter_number}" if figures.latest_quarter_number else None
        options.append((kind, label or "latest quarter", figures.latest_quarter))
    if "month" in windows and _is_latest_month(cues, figures):
        options.append((kind, figures.latest_month_name or "latest month", figures.latest_month))
    return options


def _is_latest_quarter(cues: _Cues, figures: MeasureFigures) -> bool:
    return cues.quarter_number is None or cues.quarter_number == figures.latest_quarter_number


def _is_latest_month(cues: _Cues, figures: MeasureFigures) -> bool:
    if cues.month is None:
        return True
    latest = (figures.latest_month_name or "").lower()
    return bool(latest) and latest.startswith(cues.month.lower()[:3])


# --- Comparing ----------------------------------------------------------------------------


def _finding(
    sentence: str, reading: _Reading, measure: MeasureLike, candidates: list[_Candidate]
) -> Finding:
    agreeing = [candidate for candidate in candidates if _agrees(reading, candidate.value)]
    shown = agreeing[:1] or candidates
    return Finding(
        sentence=sentence,
        number_text=sentence[reading.start : reading.end].strip(),
        measure_code=measure.code,
        expected_text=" or ".join(_describe(c, reading, measure.decimals) for c in shown),
        matches=bool(agreeing),
        kind=shown[0].kind,
        measure_name=measure.name,
    )


def _agrees(reading: _Reading, computed: Decimal) -> bool:
    """Return whether `computed`, rounded half up to the places typed, agrees with the text."""
    rounded = round_half_up(computed, reading.places)
    typed = reading.typed
    if reading.bound == "exact":
        return rounded == typed
    if reading.bound == "approx":
        return abs(rounded - typed) <= Decimal(1).scaleb(-reading.places)
    same_side = typed == 0 or (rounded > 0) == (typed > 0)
    if reading.bound == "at_least":
        return same_side and abs(rounded) >= abs(typed)
    return same_side and abs(rounded) <= abs(typed)


def _describe(candidate: _Candidate, reading: _Reading, decimals: int) -> str:
    """Return "-39.1% (12 months vs baseline; rounds to -39%)"."""
    shown = _format(candidate.kind, candidate.value, decimals)
    if candidate.kind in {"change_pct", "change_pp"}:
        rounded = _format_signed(candidate.kind, candidate.value, reading.places)
    else:
        rounded = _format(candidate.kind, candidate.value, reading.places)
    if rounded == shown:
        return f"{shown} ({candidate.label})"
    return f"{shown} ({candidate.label}; rounds to {rounded})"


def _format(kind: Kind, value: Decimal, places: int) -> str:
    if kind == "change_pct":
        return format_change_pct(value)
    if kind == "change_pp":
        return format_change_pp(value)
    return format_value(value, "percent" if kind == "rate" else "count", places)


def _format_signed(kind: Kind, value: Decimal, places: int) -> str:
    rounded = round_half_up(value, places)
    sign = "+" if rounded > 0 else "-" if rounded < 0 else ""
    number = f"{sign}{abs(rounded):,.{places}f}"
    return f"{number} pp" if kind == "change_pp" else f"{number}%"
