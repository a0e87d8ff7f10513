"""A stale save of the return form keeps everything typed (SPEC §5: two people editing).

The second save is refused (409) and nothing is written; the form comes back with what the
person typed, the other person's changes marked beside their fields, and the new version,
so that saving again after looking goes through.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from measures.accounts import user_provision
from measures.arithmetic.periods import parse_period
from measures.models import Headline, Return, Value
from measures.returns import services
from tests.conftest import PASSWORD
from tests.returns import alice_figures, assaults, form_data, key, open_quarter, return_of


@pytest.fixture
def quarter(small_plan):
    return open_quarter()


@pytest.fixture
def amir(small_plan):
    """A second lead of department A, editing the same return as alice."""
    user, _ = user_provision(
        username="amir",
        role="lead",
        department_codes=["dept-a"],
        password=PASSWORD,
        validate=False,
    )
    return user


def detail(ret: Return) -> str:
    return reverse("returns:detail", args=[ret.pk])


def amir_saves(amir, ret: Return, **figures: int) -> None:
    services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[
            services.ValueEntry("t-assaults", parse_period(month), Decimal(figure))
            for month, figure in figures.items()
        ],
        actor=amir,
    )


def box(page: str, name: str) -> str:
    """Return the <input> of a field as the page renders it."""
    return re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)[0]


def described_by(page: str, name: str) -> str:
    """Return the text of what the field's aria-describedby points at."""
    ids = re.search(r'aria-describedby="([^"]*)"', box(page, name))[1].split()
    return " ".join(re.search(rf'id="{re.escape(i)}"[^>]*>([^<]*)<', page)[1].strip() for i in ids)


def stored(month: str) -> Decimal | None:
    value = Value.objects.filter(
        measure__code="t-assaults", start=parse_period(month).start.first_day
    ).first()
    return value.value if value else None


def test_it_keeps_what_was_typed_and_marks_the_other_persons_change(client, alice, amir, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    alices_page = client.get(detail(ret))
    amir_saves(amir, ret, **{"2022-12": 45})

    response = client.post(
        detail(ret), {**form_data(alices_page, **alice_figures(dec="99")), "action": "save"}
    )
    page = response.content.decode()

    assert response.status_code == 409
    assert "Someone else changed this return after you opened it" in page
    assert "nothing you typed is lost" in page
    assert 'value="10"' in box(page, assaults("2022-10"))
    assert 'value="12"' in box(page, assaults("2022-11"))
    assert 'value="99"' in box(page, assaults("2022-12")), "what alice typed, not amir's 45"
    assert described_by(page, assaults("2022-12")) == (
        "Changed by amir to 45 while you were editing. Yours is kept: saving replaces theirs."
    )
    assert "aria-describedby" not in box(page, assaults("2022-10"))
    assert response.context["form"]["version"].value() == "2"
    assert (stored("2022-10"), stored("2022-12")) == (None, 45), "nothing of alice's saved"


def test_saving_again_after_looking_goes_through_with_the_typed_figures(
    client, alice, amir, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)
    alices_page = client.get(detail(ret))
    amir_saves(amir, ret, **{"2022-12": 45})
    conflict = client.post(
        detail(ret), {**form_data(alices_page, **alice_figures(dec="99")), "action": "save"}
    )

    again = client.post(detail(ret), {**form_data(conflict), "action": "save"})

    assert again.status_code == 302
    assert [stored(m) for m in ("2022-10", "2022-11", "2022-12")] == [10, 12, 99]
    ret.refresh_from_db()
    assert ret.version == 3
    saved = ret.events.filter(actor=alice).get()
    assert [(c["period"], c["old"], c["new"]) for c in saved.changes] == [
        ("2022-10", None, "10"),
        ("2022-11", None, "12"),
        ("2022-12", "45", "99"),
    ]


def test_a_figure_they_left_alone_takes_the_other_persons_so_saving_undoes_nothing(
    client, alice, amir, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)
    alices_page = client.get(detail(ret))  # December blank
    amir_saves(amir, ret, **{"2022-12": 45})

    conflict = client.post(
        detail(ret), {**form_data(alices_page, **alice_figures(dec="")), "action": "save"}
    )
    page = conflict.content.decode()

    assert conflict.status_code == 409
    assert 'value="45"' in box(page, assaults("2022-12"))
    assert described_by(page, assaults("2022-12")) == (
        "Changed by amir to 45 while you were editing."
    )
    assert 'value="10"' in box(page, assaults("2022-10"))
    again = client.post(detail(ret), {**form_data(conflict), "action": "save"})
    assert again.status_code == 302
    assert [stored(m) for m in ("2022-10", "2022-11", "2022-12")] == [10, 12, 45]


def test_notes_and_headlines_typed_are_kept_beside_the_other_persons(client, alice, amir, quarter):
    ret = return_of("dept-a")
    client.force_login(alice)
    alices_page = client.get(detail(ret))
    services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[
            services.ValueEntry(
                "t-assaults", parse_period("2022-10"), Decimal(7), note="Amir's note"
            )
        ],
        headlines={"violence": "Amir's headline"},
        actor=amir,
    )
    typed = {
        **alice_figures(),
        f"note-{key('t-assaults', '2022-10')}": "Alice's note",
        "headline-violence": "Alice's headline",
    }

    response = client.post(detail(ret), {**form_data(alices_page, **typed), "action": "save"})
    page = response.content.decode()

    assert response.status_code == 409
    note = f"note-{key('t-assaults', '2022-10')}"
    assert re.search(rf'name="{note}"[^>]*>\s*Alice&#x27;s note</textarea>', page)
    assert re.search(r'name="headline-violence"[^>]*>\s*Alice&#x27;s headline</textarea>', page)
    assert "Changed by amir to “Amir&#x27;s note” while you were editing." in page
    assert "Changed by amir to “Amir&#x27;s headline” while you were editing." in page
    assert Headline.objects.get().text == "Amir's headline"


def test_a_return_submitted_meanwhile_lists_what_was_typed_so_none_of_it_is_lost(
    client, alice, amir, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)
    alices_page = client.get(detail(ret))
    amir_saves(amir, ret, **{"2022-10": 5, "2022-11": 6, "2022-12": 7})
    services.return_submit(return_id=ret.pk, actor=amir)

    response = client.post(
        detail(ret), {**form_data(alices_page, **alice_figures(nov="99")), "action": "save"}
    )
    page = response.content.decode()

    assert response.status_code == 409
    assert re.search(r"amir \([^)]*\): submitted", page)
    assert "the return can no longer be edited" in page
    assert "Assaults, Oct 2022: value (count): 10" in page
    assert "Assaults, Nov 2022: value (count): 99" in page
    assert [stored(m) for m in ("2022-10", "2022-11", "2022-12")] == [5, 6, 7]
    assert return_of("dept-a").status == Return.Status.SUBMITTED


def test_posting_the_current_version_to_a_submitted_return_is_still_refused(
    client, alice, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)
    page = client.get(detail(ret))
    client.post(detail(ret), {**form_data(page, **alice_figures()), "action": "submit"})
    ret.refresh_from_db()

    refused = client.post(detail(ret), {**alice_figures(oct="1"), "version": ret.version})

    assert refused.status_code == 403
    assert "This return is submitted and cannot be changed." in refused.content.decode()


def test_a_figure_marked_not_available_meanwhile_stays_marked_after_saving_again(
    client, alice, amir, quarter
):
    ret = return_of("dept-a")
    client.force_login(alice)
    alices_page = client.get(detail(ret))
    services.return_save(
        return_id=ret.pk,
        version=ret.version,
        entries=[
            services.ValueEntry(
                "t-assaults", parse_period("2022-12"), None, unavailable="System down"
            )
        ],
        actor=amir,
    )

    conflict = client.post(
        detail(ret), {**form_data(alices_page, **alice_figures(dec="")), "action": "save"}
    )
    reason = f"unavailable-{key('t-assaults', '2022-12')}"

    assert conflict.status_code == 409
    assert 'value="System down"' in box(conflict.content.decode(), reason)
    assert described_by(conflict.content.decode(), reason).startswith(
        "Changed by amir to “System down” while you were editing."
    )
    again = client.post(detail(ret), {**form_data(conflict), "action": "save"})
    assert again.status_code == 302
    assert [stored(m) for m in ("2022-10", "2022-11", "2022-12")] == [10, 12, None]
    assert "System down" in client.get(detail(ret)).content.decode()
