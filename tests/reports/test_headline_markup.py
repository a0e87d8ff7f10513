"""Key Headlines markup (issue 13): "- " bullets, "## " headings and **bold**, everything
else escaped; the headline checks read a heading as words of its own; a heading that names
a table group takes that group's table after its first paragraph or bullet."""

from __future__ import annotations

from types import SimpleNamespace

from reports.headlines.checks import _sentences
from reports.templatetags.headlines import headline_html, place_figures, place_tables

CJS = """## All Crime

- The latest national data suggests a **reduction in timeliness**.

- Positive outcomes match the National average at 9%.

## Adult Rape

- Lancashire is ahead of the National average (-145 days)."""


def test_a_heading_line_heads_the_bullets_that_follow_it():
    assert headline_html(CJS) == (
        '<h4 class="headline-heading">All Crime</h4>'
        "<ul><li>The latest national data suggests a <strong>reduction in timeliness</strong>."
        "</li><li>Positive outcomes match the National average at 9%.</li></ul>"
        '<h4 class="headline-heading">Adult Rape</h4>'
        "<ul><li>Lancashire is ahead of the National average (-145 days).</li></ul>"
    )


def test_bullets_separated_by_blank_lines_are_one_list():
    assert headline_html("- One.\n\n- Two.\n\n\n- Three.").count("<ul>") == 1


def test_a_heading_is_escaped_like_any_other_text():
    html = headline_html("## <script>alert(1)</script> **Rape** & sexual offences")

    assert html == (
        '<h4 class="headline-heading">&lt;script&gt;alert(1)&lt;/script&gt; '
        "<strong>Rape</strong> &amp; sexual offences</h4>"
    )


def test_only_hashes_then_a_space_make_a_heading():
    assert headline_html("#1 priority: burglary") == "<p>#1 priority: burglary</p>"
    assert headline_html("##") == "<p>##</p>"
    assert headline_html("# Outcomes – Priority Crimes") == (
        '<h4 class="headline-heading">Outcomes – Priority Crimes</h4>'
    )


def test_the_headline_checks_read_a_heading_as_words_of_its_own():
    sentences = _sentences("## Adult Rape\nLancashire recorded 390 days.\n- It fell 3%.")

    assert sentences == ["Adult Rape", "Lancashire recorded 390 days.", "It fell 3%."]


# --- tables placed under the headings that name their groups --------------------------------


def _table(group: str) -> SimpleNamespace:
    return SimpleNamespace(group=group)


def _read(placed) -> list[str]:
    """Return each part as the template prints it: its words, then "[table]" per table."""
    return [
        "".join([str(part.before), *(f"[{t.group or 'table'}]" for t in part.tables), part.after])
        for headline in placed.headlines
        for part in headline.parts
    ]


def test_a_heading_naming_a_group_takes_its_table_after_its_first_bullet():
    all_crime, rape = _table("All Crime"), _table("Adult Rape")

    placed = place_tables([SimpleNamespace(text=CJS)], [all_crime, rape])

    assert _read(placed) == [
        '<h4 class="headline-heading">All Crime</h4>'
        "<ul><li>The latest national data suggests a <strong>reduction in timeliness</strong>."
        "</li></ul>[All Crime]"
        "<ul><li>Positive outcomes match the National average at 9%.</li></ul>",
        '<h4 class="headline-heading">Adult Rape</h4>'
        "<ul><li>Lancashire is ahead of the National average (-145 days).</li></ul>[Adult Rape]",
    ]
    assert placed.tables == []


def test_a_table_follows_a_first_paragraph_or_a_heading_with_nothing_under_it():
    text = "## Outcomes\nForce data shows 13.64%.\nMore words.\n## **all   crime**"

    placed = place_tables([SimpleNamespace(text=text)], [_table("Outcomes"), _table("All Crime")])

    assert _read(placed) == [
        '<h4 class="headline-heading">Outcomes</h4><p>Force data shows 13.64%.</p>'
        "[Outcomes]<p>More words.</p>",
        # Matched as words: bold marks, case and spacing aside.
        '<h4 class="headline-heading"><strong>all   crime</strong></h4>[All Crime]',
    ]


def test_headings_and_tables_that_do_not_match_keep_their_places():
    ungrouped, unnamed, rape = _table(""), _table("Hate Crime"), _table("Adult Rape")
    headlines = [
        SimpleNamespace(text="- Before any heading.\n## Adult Rape\n- One.\n- Two."),
        # A second department's headlines: the group is placed once, under the first heading.
        SimpleNamespace(text="## Adult Rape\n- Three."),
    ]

    placed = place_tables(headlines, [ungrouped, unnamed, rape])

    assert placed.tables == [ungrouped, unnamed]
    assert _read(placed) == [
        "<ul><li>Before any heading.</li></ul>",
        '<h4 class="headline-heading">Adult Rape</h4><ul><li>One.</li></ul>[Adult Rape]'
        "<ul><li>Two.</li></ul>",
        '<h4 class="headline-heading">Adult Rape</h4><ul><li>Three.</li></ul>',
    ]
    # Without placed tables the parts print the markup unchanged.
    assert "".join(_read(placed)[:2]).replace("[Adult Rape]", "").replace(
        "</ul><ul>", ""
    ) == headline_html(headlines[0].text)


def test_placed_markup_is_escaped_like_any_other_headline_text():
    placed = place_tables([SimpleNamespace(text="## A & B\n<b>x</b>")], [_table("A & B")])

    assert _read(placed) == [
        '<h4 class="headline-heading">A &amp; B</h4><p>&lt;b&gt;x&lt;/b&gt;</p>[A & B]'
    ]


def test_a_heading_naming_a_chart_takes_it_straight_under_it():
    """As the seed prints "Outcomes – Priority Crimes": heading, chart, then the words."""
    outcomes = SimpleNamespace(title="Outcomes – Priority Crimes")
    flow = SimpleNamespace(title="101 Call Flow Performance – October to December 2022")
    other = SimpleNamespace(title="ASB incidents")
    text = (
        "- Crime is down.\n## Outcomes – Priority Crimes\n- Outcomes hit 13.64%.\n"
        "## 101 Call Flow Performance\n- Better."
    )

    placed = place_figures([SimpleNamespace(text=text)], [], [outcomes, flow, other])

    parts = placed.headlines[0].parts
    assert [str(p.heading) for p in parts] == [
        "",
        '<h4 class="headline-heading">Outcomes – Priority Crimes</h4>',
        # Named by its title before " – <the quarter's months>".
        '<h4 class="headline-heading">101 Call Flow Performance</h4>',
    ]
    assert [p.charts for p in parts] == [[], [outcomes], [flow]]
    assert str(parts[1].before) == "<ul><li>Outcomes hit 13.64%.</li></ul>"
    assert placed.charts == [other], "a chart no heading names stays with the section's charts"
