"""Key Headlines markup (issue 13): "- " bullets, "## " headings and **bold**, everything
else escaped; the headline checks read a heading as words of its own."""

from __future__ import annotations

from reports.headlines.checks import _sentences
from reports.templatetags.headlines import headline_html

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
