"""A first hit in another language than the claim: identified languages and the bar that shows it."""

from __future__ import annotations

import json

import pytest

from factcheck import FactChecker, Thresholds, Tier
from factcheck.models import VerifiedItem
from factcheck.ranking import leads_across_languages, tier_for
from factcheck.rerank import Reranker
from factcheck.text import identify_language
from tests.fakes import HashEmbedder
from tests.test_rerank import spec

CLAIM_ID = "Vaksin COVID-19 mengandung chip pelacak yang ditanam di tubuh"


@pytest.mark.parametrize(("text", "language"), [
    (CLAIM_ID, "id"),
    ("Pemerintah akan menutup jalan tol ini karena banjir", "id"),
    ("The government is closing this road because of the flood", "en"),
    ("코로나 백신에 칩이 들어있다", "ko"),
    # styled letters of forwarded messages are read as the letters they style
    ("𝙋𝙍𝙊𝙂𝙍𝘼𝙈 𝙋𝙍𝙊𝙈𝙊 2024 𝙆𝙝𝙪𝙨𝙪𝙨 𝙎𝙚𝙡𝙪𝙧𝙪𝙝 𝙉𝙖𝙨𝙖𝙗𝙖𝙝 𝘽𝘼𝙉𝙆 𝙅𝘼𝙒𝘼 𝙏𝙄𝙈𝙐𝙍", "id"),
    ("ok", None),  # too short to tell
    ("👇👇👇 https://bit.ly/xyz @someone #viral", None),
])
def test_identify_language(text: str, language: str | None) -> None:
    assert identify_language(text) == language


def test_leads_across_languages_needs_the_bar_and_two_known_languages() -> None:
    th = Thresholds(0.9, 0.8, confidence_match=0.8, confidence_suggestion=0.3,
                    confidence_cross=0.2)
    assert leads_across_languages(CLAIM_ID, "en", 0.25, th)
    assert leads_across_languages(CLAIM_ID, "en-US", 0.2, th)
    assert not leads_across_languages(CLAIM_ID, "en", 0.19, th)  # below the bar
    assert not leads_across_languages(CLAIM_ID, "id", 0.25, th)  # same language
    assert not leads_across_languages(CLAIM_ID, "", 0.25, th)  # item language unknown
    assert not leads_across_languages(CLAIM_ID, None, 0.25, th)
    assert not leads_across_languages("ok", "en", 0.25, th)  # claim language unknown
    assert not leads_across_languages(CLAIM_ID, "en", None, th)  # not re-ranked
    no_bar = Thresholds(0.9, 0.8, confidence_match=0.8, confidence_suggestion=0.3)
    assert not leads_across_languages(CLAIM_ID, "en", 0.25, no_bar)


def test_the_bar_is_a_threshold_like_the_others() -> None:
    th = Thresholds(0.9, 0.8, confidence_match=0.8, confidence_suggestion=0.3,
                    languages=(("id", 0.7, 0.2),), confidence_cross=0.15)
    assert th.for_language("id").confidence_cross == 0.15  # one bar for every language
    assert th.as_dict()["confidence_cross"] == 0.15
    assert th.with_overrides("confidence_cross=0.4").confidence_cross == 0.4
    assert "confidence_cross" not in Thresholds(0.9, 0.8).as_dict()


def mixed_checker(thresholds: Thresholds) -> FactChecker:
    """An English fact-check of the claim and an unrelated Indonesian one, re-ranked by the
    hand-made weights of tests/test_rerank.py (score: share of the item's words in the claim)."""
    checker = FactChecker.in_memory(HashEmbedder())
    checker.add_items([
        VerifiedItem(url="https://f.example/en", title="COVID-19 chip", language="en",
                     claim="COVID-19 vaccines hide a tracking chip"),
        VerifiedItem(url="https://f.example/id", title="Banjir bandang di Garut menelan korban",
                     language="id"),
    ])
    checker.reranker = Reranker(spec(min_items=1))
    checker.thresholds = thresholds
    return checker


def test_a_first_hit_in_another_language_is_shown_from_the_bar_up() -> None:
    strict = Thresholds(0.99, 0.98, confidence_match=0.999, confidence_suggestion=0.998)
    before = mixed_checker(strict).check(CLAIM_ID)
    assert before.hits[0].item.url == "https://f.example/en"
    assert before.tier is Tier.NONE and before.confidence is not None
    bar = before.confidence - 0.01
    with_bar = Thresholds(0.99, 0.98, confidence_match=0.999, confidence_suggestion=0.998,
                          confidence_cross=bar)
    after = mixed_checker(with_bar).check(CLAIM_ID)
    assert after.tier is Tier.SUGGESTION  # shown, never a match on this bar
    assert after.hits[0].item.url == "https://f.example/en"
    assert after.thresholds["confidence_cross"] == bar
    above = Thresholds(0.99, 0.98, confidence_match=0.999, confidence_suggestion=0.998,
                       confidence_cross=before.confidence + 0.01)
    assert mixed_checker(above).check(CLAIM_ID).tier is Tier.NONE
    # a claim in the fact-check's own language gets no such help
    english = "They say that the COVID-19 vaccines hide a tracking chip"
    assert identify_language(english) == "en"
    same = mixed_checker(with_bar).check(english)
    assert same.hits[0].item.url == "https://f.example/en"
    assert same.tier is tier_for(None, with_bar.for_language("en"), same.confidence)
    assert same.tier is not Tier.SUGGESTION


@pytest.mark.slow
def test_the_readme_claim_is_led_to_the_english_check_of_its_hoax() -> None:
    """The README's own example: in the demo sample the only check of the vaccine-chip hoax is
    Snopes' (English). Before the bar it was answered "no match" (confidence 0.23 < 0.31)."""
    from click.testing import CliRunner

    from cli import cli

    result = CliRunner().invoke(
        cli, ["check", "--demo", "--json", "Vaksin COVID-19 mengandung chip pelacak"])
    assert result.exit_code == 0
    answer = json.loads(result.stdout)
    assert answer["status"] == "suggestion" and not answer["matches"]
    assert answer["others"][0]["url"] == "https://www.snopes.com/fact-check/covid-5g-chip-diagram/"
    assert answer["confidence"] < answer["thresholds"]["confidence_suggestion"]
    assert answer["confidence"] >= answer["thresholds"]["confidence_cross"]


def test_a_hit_in_another_language_than_the_readers_says_so() -> None:
    from factcheck.render import written_in

    assert written_in("en", "id") == ["berbahasa Inggris"]
    assert written_in("id", "en") == ["in Indonesian"]
    assert written_in("en-US", "id") == ["berbahasa Inggris"]
    assert written_in("id", "id") == [] and written_in("", "id") == [] and written_in(None, "en") == []
    assert written_in("xx", "id") == []  # no name for it: nothing rather than a code
    from click.testing import CliRunner

    from cli import cli

    out = CliRunner().invoke(cli, ["check", "--demo", "Vaksin COVID-19 mengandung chip pelacak"])
    assert out.exit_code == 0
    assert "Snopes · 4 Januari 2021 · berbahasa Inggris · https://www.snopes.com/" in out.stdout
