"""The sentiment pass: stars and text combined, with the reason kept in words."""

from __future__ import annotations

import pytest

from service.config import SentimentConfig
from service.reading import complaints, language
from service.reading.sentiment import SentimentScorer

scorer = SentimentScorer(SentimentConfig())


@pytest.mark.parametrize(
    ("text", "rating", "negative", "reason"),
    [
        ("Lovely evening, great food.", 1, True, "rating 1 of 5"),
        ("Lovely evening, great food.", 2, True, "rating 2 of 5"),
        ("Not bad, a little slow.", 4, False, "not strongly negative"),
        ("Worst meal of my life, rude staff, disgusting.", 5, True, "strongly negative"),
        ("Terrible service, awful food.", 3, True, "rating 3 of 5; the text reads negative"),
        ("Great food, lovely staff.", 3, False, "does not read negative"),
        ("Terrible service, awful food.", None, True, "no rating; the text reads negative"),
        ("", 5, False, "rating 5 of 5"),
        ("", None, False, "no rating"),
    ],
)
def test_stars_and_text_combine_as_documented(text: str, rating: int | None, negative: bool, reason: str) -> None:
    verdict = scorer.score(text=text, title=None, rating=rating)
    assert verdict.negative is negative
    assert reason in verdict.reason


def test_title_counts_with_the_text() -> None:
    assert scorer.score(text="The food.", title="Disgusting and awful", rating=None).negative
    assert not scorer.score(text="The food.", title=None, rating=None).negative


def test_a_language_vader_cannot_read_is_not_guessed_from_its_text() -> None:
    angry_french = "Service épouvantable, nourriture froide, le serveur était très impoli avec nous."
    verdict = scorer.score(text=angry_french, title=None, rating=None)
    assert (verdict.negative, verdict.compound, verdict.language) == (False, None, "fr")
    assert "French (fr), which VADER cannot read, and there is no rating" in verdict.reason
    assert scorer.score(text=angry_french, title=None, rating=1).negative
    assert not scorer.score(text=angry_french, title=None, rating=5).negative


OTHER_LANGUAGES = {  # reviews in languages written in the Latin script, several sharing words with English
    "de": "Wir waren am Samstag da. Es war so voll, dass wir an der Bar sitzen mussten, in der Ecke. Was für ein Abend!",
    "nl": "Het eten was heerlijk en de bediening is vriendelijk, we komen zeker terug. Het was een leuke avond.",
    "fr": "La nourriture était froide et le serveur était très impoli. Nous ne reviendrons pas, c'est dommage.",
    "es": "La comida estaba fria y el camarero fue muy grosero. No vamos a volver, es una pena para el barrio.",
    "it": "Il cibo era freddo e il cameriere molto scortese. Non torneremo, peccato per il posto che era bello.",
    "pt": "A comida estava fria e o garçom foi muito rude. Não vamos voltar, que pena para o bairro.",
    "id": "Makanannya enak sekali dan pelayanannya ramah, kami pasti akan kembali lagi ke tempat ini.",
    "tl": "Ang sarap ng pagkain at mabait ang mga staff at ang lugar, babalik kami ulit dito sa susunod na linggo.",
    "sv": "Maten var kall och servitören var otrevlig. Vi kommer inte tillbaka, det var synd.",
    "da": "Maden var kold og tjeneren var uhøflig. Vi kommer ikke igen, det er en skam for stedet.",
    "af": "Die kos was koud en die kelner was onbeskof. Ons sal nie weer kom nie, dit is jammer.",
    "ro": "Mancarea a fost rece si chelnerul a fost nepoliticos. Nu ne vom mai intoarce, pacat.",
    "sw": "Chakula kilikuwa baridi na mhudumu alikuwa mkorofi. Hatutarudi tena, ni huzuni kweli.",
    "pl": "Jedzenie było zimne i kelner był niegrzeczny, to my już nie wrócimy. To jest za drogie i za wolne.",
    "cs": "Jídlo bylo studené a číšník byl nepříjemný, to my už nepřijdeme. Bylo to drahé i pomalé.",
    "hr": "Hrana je bila hladna i konobar je bio neljubazan, to je šteta. I cijene su visoke.",
    "tr": "Yemekler soğuktu ve garson çok kabaydı. Bir daha asla gelmeyeceğiz.",
}


@pytest.mark.parametrize("code", sorted(OTHER_LANGUAGES))
def test_only_plainly_english_text_skips_the_language_model(code: str) -> None:
    assert not language.plainly_english(OTHER_LANGUAGES[code])  # left to the model
    assert language.plainly_english("Visited on a Sunday and the chowder was lovely, but it was too busy for us.")
    assert not language.plainly_english("Great value.")  # too little to tell: the model decides (or the length rule)


def test_thresholds_come_from_the_config() -> None:
    strict = SentimentScorer(SentimentConfig(negative_threshold=0.5, strong_negative_threshold=0.4, text_model=False))
    assert strict.score(text="It was okay I guess.", title=None, rating=3).negative
    assert not SentimentScorer(SentimentConfig(text_model=False)).score(text="It was okay I guess.", title=None, rating=3).negative
    # the strong threshold decides a 4-5 star review with or without the text model
    assert SentimentScorer(SentimentConfig(negative_threshold=0.5, strong_negative_threshold=0.4)).score(
        text="It was okay I guess.", title=None, rating=5).negative
    assert not scorer.score(text="It was okay I guess.", title=None, rating=5).negative


def test_a_platform_translation_is_scored_instead_of_guessing() -> None:
    german = "Das Essen war kalt und der Kellner war sehr unhöflich zu uns, nie wieder."
    verdict = scorer.score(text=german, title=None, rating=None, translation="The food was cold and the waiter was very rude to us, never again.")
    assert verdict.negative and verdict.language == "de" and verdict.compound is not None
    assert "scored on the platform's English translation of the German text" in verdict.reason


# -- the sentence rule (issue 6): sentences, the clause after "but", complaint cues ----------
# These read the hand-written rule alone (text_model = false): its verdict, its reason and
# its figures are what the text model weighs (tests/reading/test_text_model.py), and it is what
# decides when an owner turns the model off.

rule = SentimentScorer(SentimentConfig(text_model=False))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Food was cold.", "complaint cue (cold or badly cooked food): 'was cold' in sentence 1: 'Food was cold.'"),
        ("Never again.", "complaint cue (never again): 'never again'"),
        ("We waited 40 minutes for a table.", "complaint cue (waiting): 'waited 40 minutes'"),
        ("Nice colour. I sent it back after a week.", "complaint cue (return or refund): 'sent it back' in sentence 2"),
        ("Lovely fabric. The zipper broke after one wash.", "complaint cue (broke or stopped working): 'broke' in sentence 2: 'The zipper broke after one wash.'"),
        ("I want my money back.", "complaint cue (waste of money): 'want my money back'"),
        ("Support was no help at all.", "complaint cue (no help or no answer): 'was no help'"),
        ("Rating: 1 out of 10.", "complaint cue (low score): '1 out of 10'"),
        ("Honestly, I would give it zero stars.", "complaint cue (low score): 'zero stars'"),
        ("The remote does not function.", "complaint cue (broke or stopped working): 'does not function'"),
        ("Two hours I wish I could get back.", "complaint cue (waste of money): 'wish i could get back'"),
        ("The room was too noisy to sleep.", "complaint cue (too much): 'too noisy'"),
        ("It locked up after the update.", "complaint cue (broke or stopped working): 'locked up'"),
        ("It worked for two weeks.", "complaint cue (broke or stopped working): 'worked for two weeks'"),
        ("I called all week and could not get through.", "complaint cue (no help or no answer): 'could not get through'"),
        ("I have decided to return the phone.", "complaint cue (return or refund): 'decided to return the'"),
        ("The battery lasted two days.", "complaint cue (broke or stopped working): 'lasted two days'"),
        ("They still hadn't shipped it.", "complaint cue (waiting): 'still hadn't shipped'"),
        ("They will not respond to my emails.", "complaint cue (no help or no answer): 'will not respond to my'"),
        ("Not worth any price; I recommend that you don't purchase it.", "complaint cue (waste of money)"),
        ("The laptop did not recognize my phone.", "complaint cue (broke or stopped working): 'did not recognize my'"),
        ("I will never buy from them again!", "complaint cue (never again): 'will never buy from'"),
        ("I can not get it to play any of my files.", "complaint cue (broke or stopped working): 'can not get it to play'"),
        ("Ordered two sizes and have returned both.", "complaint cue (return or refund): 'returned both'"),
        ("We walked out after twenty minutes.", "complaint cue (walked out): 'we walked out'"),
        ("Nothing at all to recommend.", "complaint cue (would not recommend): 'nothing at all to recommend'"),
        ("The bill made no sense.", "complaint cue (fell short): 'made no sense'"),
        ("And don't even get me started on the parking.", "complaint cue (fell short)"),
        ("The plot was too predictable.", "complaint cue (too much): 'too predictable'"),
        ("It is not worth wasting your time on.", "complaint cue (waste of money): 'not worth wasting'"),
        ("I will never get those two hours back!", "complaint cue (waste of money): 'will never get those two hours back'"),
        ("Unless you love queues, you can skip this one.", "complaint cue (waste of money): 'you can skip this'"),
        ("The service was far from the best.", "complaint cue (fell short): 'far from the best'"),
        ("The second act never quite comes together.", "complaint cue (fell short): 'never quite'"),
        ("The service hit an all-time low.", "complaint cue (fell short): 'all-time low'"),
        ("The kitchen ran out of steam by nine.", "complaint cue (fell short): 'ran out of steam'"),
        ("The room was anything but clean.", "reads negative"),
        ("I have not been this disappointed in years.", "reads negative"),
        ("Highly unrecommended.", "reads negative"),
        ("I agree with the others, this place is pretty bad.", "reads negative"),
        ("The menu app is cumbersome.", "reads negative"),
        ("What a nightmare.", "reads negative"),
    ],
)
def test_complaint_cues_vader_has_no_word_for_flag_the_text(text: str, reason: str) -> None:
    verdict = rule.score(text=text, title=None, rating=None)
    assert verdict.negative
    assert verdict.reason.startswith("no rating; ")
    assert reason in verdict.reason


@pytest.mark.parametrize(
    "text",
    ["No complaints, the food was great.", "I never had a problem with it.", "The soup was not cold at all.",
     "I didn't have to send it back, it fits.", "It never broke, even after years.",
     "We paid 1/5 of the usual price.", "Only 2 out of 10 tables were taken, so it was quiet and lovely.",
     "One star off for the parking, otherwise lovely.", "10/10, would come again.",
     "We will return to this place!", "I worked for a month nearby and ate here daily.", "It was not too expensive.",
     "The speakers arent too loud.", "I use it as an alarm clock.", "A lovely cut of beef from the wood fire.",
     "We worked for a week on the garden and ate here every night.",
     "From 1 star to 5 stars, they fixed everything!", "We got sent back to our table with a free dessert.",
     "They did respond to my emails within a day.", "It is worth every penny.",
     "I would never buy another brand, this one is perfect.", "We never had trouble, I can get it to play anything.",
     "What a pretty view from the terrace.", "The desserts were pretty good.", "We never walked out of a show so happy.",
     "We can't wait to get back there.", "With the app you can skip the queue.", "Not far from the best beach in town.",
     "The kids would eat anything but fish, and loved the burgers."],
)
def test_negated_or_outweighed_cues_do_not_flag(text: str) -> None:
    assert not rule.score(text=text, title=None, rating=None).negative


def test_a_negative_sentence_decides_when_the_whole_text_is_only_mildly_negative() -> None:
    text = "Okay location. The room was dirty."
    verdict = rule.score(text=text, title=None, rating=None)
    assert verdict.compound is not None and verdict.compound > -0.30  # the whole text alone would not decide
    assert verdict.negative
    assert "sentence 2 reads negative (-0.44): 'The room was dirty.'" in verdict.reason


def test_one_sour_sentence_in_a_glowing_review_is_not_enough() -> None:
    text = "Great location! The room was dirty."
    verdict = rule.score(text=text, title=None, rating=None)
    assert not verdict.negative
    assert "its lowest sentence scores -0.44 but the sentence mean is +0.11 > -0.10" in verdict.reason


def test_the_clause_after_but_weighs_more() -> None:
    text = "The location is great and the staff are lovely, but the beds are awful."
    verdict = rule.score(text=text, title=None, rating=None)
    assert verdict.negative
    assert "after 'but' in sentence 1 reads negative" in verdict.reason and "'the beds are awful.'" in verdict.reason


@pytest.mark.parametrize("reader", [rule, scorer], ids=["sentence rule", "text model"])
def test_stars_still_lead_when_the_text_has_a_cue(reader: SentimentScorer) -> None:
    assert not reader.score(text="Food was cold.", title=None, rating=5).negative  # not strongly negative
    assert reader.score(text="Food was cold.", title=None, rating=3).negative
    reason = reader.score(text="Food was cold.", title=None, rating=3).reason
    assert reason.startswith("rating 3 of 5; ") and "complaint cue (cold or badly cooked food): 'was cold'" in reason


def test_non_english_text_stays_with_the_rating_even_with_an_english_cue_word() -> None:
    verdict = rule.score(text="Das Essen war kalt, nie wieder, der Kellner war unhöflich und hat uns ignoriert.", title=None, rating=None)
    assert (verdict.negative, verdict.language) == (False, "de")


def test_curly_apostrophes_read_as_negations() -> None:
    assert rule.score(text="I don’t like it.", title=None, rating=None).negative
    assert rule.score(text="I don't like it.", title=None, rating=None).negative


def test_the_cue_list_matches_whole_words_and_skips_negations() -> None:
    assert complaints.find("Returned it the next day.") == ("return or refund", "returned it")
    assert complaints.find("WAITED 45 MINUTES") == ("waiting", "waited 45 minutes")
    assert complaints.find("The brokerage was helpful") is None  # "broke" only as a word
    assert complaints.find("Not rude at all, and no complaints about the fit.") is None
    assert complaints.find("I never had to send it back") is None


@pytest.mark.parametrize("text", ["The dialogue is atrocious.", "The food was mediocre.", "The pasta was bland and overpriced.",
                                  "Pointless, forgettable and tedious.", "The chips were stale and rubbery.",
                                  "A pretentious, muddled plot.", "The service was diabolical."])
def test_review_words_missing_from_vaders_lexicon_read_negative(text: str) -> None:
    verdict = rule.score(text=text, title=None, rating=None)
    assert verdict.negative and verdict.compound < 0, verdict.reason


def test_the_review_words_follow_vaders_rules_for_negation_and_stars() -> None:
    assert not rule.score(text="The curry was not bland at all.", title=None, rating=None).negative
    assert not rule.score(text="A bit bland, otherwise a lovely evening.", title=None, rating=4).negative  # stars lead


def test_the_review_words_change_only_reviewmons_reading_not_plain_vader() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    rule.score(text="warm-up", title=None, rating=None)
    assert SentimentIntensityAnalyzer().polarity_scores("The dialogue is atrocious.")["compound"] == 0.0


def test_words_run_together_by_punctuation_are_read_one_by_one() -> None:
    verdict = rule.score(text="One of the most boring,pointless films.", title=None, rating=None)
    assert verdict.negative and verdict.compound < -0.5


@pytest.mark.parametrize("text", ["Works fine, no issues.", "No issues so far.", "Arrived on time, no fuss.", "No hassle at all."])
def test_no_trouble_reads_kindly_not_as_a_bare_no(text: str) -> None:
    assert not rule.score(text=text, title=None, rating=None).negative


def test_trouble_words_read_as_complaints() -> None:
    assert rule.score(text="Had issues with the app.", title=None, rating=None).negative
    assert rule.score(text="Full of bugs.", title=None, rating=None).negative


def test_an_idiom_said_both_ways_is_no_complaint_cue() -> None:
    assert complaints.find("A bit pricey, but you get what you pay for.") is None


@pytest.mark.parametrize("text", [
    "I cannot recommend this place enough!",
    "Can't recommend Harbour Lane enough.",
    "We can't thank the team at Harbour Lane enough.",
    "I can't praise the staff highly enough.",
    "I cannot say enough good things about the staff.",
    "Could not be happier with the room.",
    "Couldn't have been more pleased with the service.",
    "We would not hesitate to recommend them.",
    "Zero complaints, lovely meal.",  # and the comma ends what "no" negates
    "There hasn't been any more problems since the update.",
    "So far no major issues.",
    "No real problems with the booking.",
])
def test_praise_that_vader_reads_as_a_complaint_is_not_flagged(text: str) -> None:
    verdict = rule.score(text=text, title=None, rating=None)
    assert not verdict.negative, verdict.reason


@pytest.mark.parametrize("text", [
    "I can't recommend this place.",
    "Cannot recommend them, the food was cold.",
    "Could not be more disappointed with the room.",
    "I would hesitate to recommend them.",
    "Nothing but complaints from our group.",
    "There have been problems with every order.",
    "Major issues with the booking.",
])
def test_the_complaint_twins_of_those_idioms_are_still_flagged(text: str) -> None:
    verdict = rule.score(text=text, title=None, rating=None)
    assert verdict.negative, verdict.reason


def test_zero_complaints_reads_as_no_complaints() -> None:
    plain = "I have no complaints."
    assert rule.score(text="I have zero complaints.", title=None, rating=None).compound == rule.score(
        text=plain, title=None, rating=None).compound


@pytest.mark.parametrize("text", ["No complaints, great food.", "No complaints. Great food.", "No issues, great phone.",
                                  "No fuss, friendly staff.", "No wait, great service!"])
def test_a_no_does_not_negate_the_praise_after_its_clause(text: str) -> None:
    verdict = rule.score(text=text, title=None, rating=None)
    assert not verdict.negative and verdict.compound > 0, verdict.reason


def test_a_no_still_negates_inside_its_clause() -> None:
    assert rule.score(text="No good options and no help.", title=None, rating=None).negative
    assert rule.score(text="There was no friendly face in sight.", title=None, rating=None).compound < 0


def test_pretty_before_a_plain_or_scored_word_means_quite_not_pretty() -> None:
    def compound(text: str) -> float:
        return rule.score(text=text, title=None, rating=None).compound

    assert compound("The food was pretty average.") <= 0 < compound("What a pretty view from the terrace.")
    assert compound("The service was pretty bad.") < compound("The service was bad.") < 0  # bad, and then some
    assert compound("The desserts were pretty good.") > 0
