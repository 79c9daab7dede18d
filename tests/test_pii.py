from __future__ import annotations

import pytest

from synthlab.core.records import make_records
from synthlab.curation.pii import find_pii, scrub_pii, unscrub_pii


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(kind, span) for kind, _, _, span in find_pii(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Write to jo.doe+films@example.co.uk today.", [("email", "jo.doe+films@example.co.uk")]),
        ("first.last@mail.example.com!", [("email", "first.last@mail.example.com")]),
        ("Call 555-123-4567 or (020) 7946 0958.", [("phone", "555-123-4567"), ("phone", "(020) 7946 0958")]),
        ("Ring +44 20 7946 0958 now", [("phone", "+44 20 7946 0958")]),
        (
            "See https://example.org/a?b=1, then www.imdb.com/title/tt0111161.",
            [("url", "https://example.org/a?b=1"), ("url", "www.imdb.com/title/tt0111161")],
        ),
        ("Tickets at cinema.co.uk/tickets (limited).", [("url", "cinema.co.uk/tickets")]),
    ],
)
def test_finds_emails_phones_and_urls(text, expected):
    assert _kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Released 12/05/2023 and on DVD 2024-05-01, e.g. in shops at 10:30.",
        "Made between 1999-2004, i.e. over five years, for $10,000,000.",
        "Rated 4.5 out of 5; 120 minutes; room 101 at 221B Baker Street.",
        "Written in node.js by the team of Dr. Smith et al. in 1999 2000",
    ],
)
def test_dates_years_numbers_and_abbreviations_are_not_pii(text):
    assert find_pii(text) == []


def test_an_email_domain_is_not_also_a_url():
    assert _kinds("Mail press@studio.com") == [("email", "press@studio.com")]


def test_scrub_replaces_logs_and_unscrub_restores():
    frame = make_records(
        [
            {"id": "a", "text": "Mail jo@example.com or call 555-123-4567, or see www.example.com."},
            {"id": "b", "text": "A fine film with nothing personal in it."},
            {"id": "c", "text": "Ask x.y+z@films.org."},
        ]
    )
    scrubbed, log = scrub_pii(frame)
    assert scrubbed["text"].tolist() == [
        "Mail <EMAIL> or call <PHONE>, or see <URL>.",
        frame["text"].iloc[1],
        "Ask <EMAIL>.",
    ]
    assert log[["id", "kind", "original"]].values.tolist() == [
        ["a", "email", "jo@example.com"],
        ["a", "phone", "555-123-4567"],
        ["a", "url", "www.example.com"],
        ["c", "email", "x.y+z@films.org"],
    ]
    assert frame["text"].iloc[0][log["start"].iloc[1] : log["end"].iloc[1]] == "555-123-4567"
    assert unscrub_pii(scrubbed, log).equals(frame)
    assert len(scrubbed) == len(frame) and frame["text"].iloc[0].startswith("Mail jo@"), "the input is not changed"


def test_scrub_only_the_kinds_asked_for():
    frame = make_records([{"text": "jo@example.com, 555-123-4567"}])
    scrubbed, log = scrub_pii(frame, kinds=["phone"])
    assert scrubbed["text"].iloc[0] == "jo@example.com, <PHONE>" and log["kind"].tolist() == ["phone"]
    with pytest.raises(ValueError, match="unknown PII kinds \\['ssn'\\]"):
        scrub_pii(frame, kinds=["ssn"])


def test_bad_input_and_edited_text():
    with pytest.raises(TypeError, match="not a string"):
        scrub_pii(make_records([{"text": 5551234567}]))
    with pytest.raises(ValueError, match="empty frame"):
        scrub_pii(make_records([{"text": "x"}]).iloc[:0])
    with pytest.raises(KeyError, match="text_col"):
        scrub_pii(make_records([{"text": "x"}]), text_col="body")
    scrubbed, log = scrub_pii(make_records([{"id": "a", "text": "Mail jo@example.com now."}]))
    scrubbed.loc[0, "text"] = "Mail someone now."
    with pytest.raises(ValueError, match="text changed after scrubbing"):
        unscrub_pii(scrubbed, log)
    empty_log = scrub_pii(make_records([{"text": "Nothing here."}]))[1]
    assert empty_log.empty and list(empty_log.columns) == [
        "id",
        "kind",
        "original",
        "placeholder",
        "start",
        "end",
    ]
