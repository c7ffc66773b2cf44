"""The policy guard against replies written to slip past it (issue 6).

Every adversarial reply below is otherwise polite: it thanks the reviewer, apologises and
invites them to the configured contact, so the only thing wrong with it is the part
smuggled in: compensation, another contact, a request to change the review, an excuse,
or facts of the case. Each smuggled word is also tried disguised: spaced out, hyphenated,
dotted, with invisible characters, in odd case, with Cyrillic or Greek look-alikes,
full-width or mathematical letters, accents and leetspeak. The guard must name the right
rule for every one of them, and must still pass a range of clean replies (a guard that
refuses everything would be useless). Last, none of them can be approved after an owner
edit (service/desk/approvals.py).
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from service.config import Contact
from service.desk import approvals, queries
from service.errors import PolicyViolation
from service.polling import poll as poll_module
from service.replies.guard import check_reply
from tests.disguises import DISGUISES

EMAIL = Contact("hello@harbourlane.example", "email")
PHONE = Contact("+44 20 7946 0000", "phone")
URL = Contact("https://harbourlane.example/contact", "url")
BUSINESS = "Harbour Lane Bistro"

OPEN = "Hi Ana, thank you for your feedback, and we are sorry. "
INVITE = "Please email us at hello@harbourlane.example so our manager can talk with you. "
CLOSE = "Kind regards, the Harbour Lane Bistro team"

COMPENSATION = "offers something of value"
CHANGE_REVIEW = "asks the reviewer to change or remove their review"
ARGUING = "argues, blames or makes excuses"
CASE_FACTS = "gives details of the case"
OTHER_CONTACT = "contains contact details other than"
FULL_NAME = "full name or a surname"


def problems(text: str, contact: Contact = EMAIL, business: str = BUSINESS) -> list[str]:
    return check_reply(text, contact=contact, business_name=business).problems


def reply(sentence: str) -> str:
    """A polite reply with `sentence` smuggled in between the invitation and the sign-off."""
    return OPEN + INVITE + sentence + "\n\n" + CLOSE


# (rule the guard must name, sentence with {} for the word to disguise, the word). Each
# sentence also thanks or invites, so the smuggled word is the only thing wrong with it.
WORD_CASES = [
    # compensation, in many words
    (COMPENSATION, "Thank you, we will {} you in full.", "refund"),
    (COMPENSATION, "Thank you, and you will get your {} back.", "money"),
    (COMPENSATION, "Thank you, we will {} you for the meal.", "reimburse"),
    (COMPENSATION, "Thank you, we have added a {} to your account.", "credit"),
    (COMPENSATION, "Thank you, a {} is on its way to you.", "voucher"),
    (COMPENSATION, "Thank you, we would like to send you a {} card.", "gift"),
    (COMPENSATION, "Thank you, your next dinner will be {}.", "complimentary"),
    (COMPENSATION, "Thank you, your next dinner is on the {}.", "house"),
    (COMPENSATION, "Thank you, please enjoy a {} dessert next time.", "free"),
    (COMPENSATION, "Thank you, your next night with us is {} of charge.", "free"),
    (COMPENSATION, "Thank you, we can {} your next visit.", "discount"),
    (COMPENSATION, "Thank you, please accept twenty {} off your next visit.", "percent"),
    (COMPENSATION, "Thank you, we will gladly {} your next meal.", "comp"),
    (COMPENSATION, "Thank you, we want to make it right {}.", "financially"),
    (COMPENSATION, "Thank you, we will {} the cost of your meal.", "cover"),
    (COMPENSATION, "Thank you, we'll {} you something nice.", "send"),
    (COMPENSATION, "Thank you, we will {} the bill.", "waive"),
    (COMPENSATION, "Thank you, we will pay you back twenty {}.", "pounds"),
    (COMPENSATION, "Thank you, we will pay you back fifty {}.", "bucks"),
    (COMPENSATION, "Thank you, we can offer a small {} of goodwill.", "gesture"),
    (COMPENSATION, "Thank you, please use the promo {} when you book again.", "code"),
    (COMPENSATION, "Thank you, we would like to {} you for the trouble.", "compensate"),
    (COMPENSATION, "Thank you, we would like to make things {}.", "right"),  # a promise of value, if not in words
    # asking for the review or rating to change
    (CHANGE_REVIEW, "Thank you, and please {} your review once we have spoken.", "remove"),
    (CHANGE_REVIEW, "Thank you, and could you {} this review?", "delete"),
    (CHANGE_REVIEW, "Thank you, and please take your review {}.", "down"),
    (CHANGE_REVIEW, "Thank you, and we hope you will take it {} after we talk.", "down"),
    (CHANGE_REVIEW, "Thank you, and please {} your review when we have talked.", "update"),
    (CHANGE_REVIEW, "Thank you, and please {} your review afterwards.", "edit"),
    (CHANGE_REVIEW, "Thank you, and please {} your rating.", "change"),
    (CHANGE_REVIEW, "Thank you, and we hope you will {} your stars.", "reconsider"),
    (CHANGE_REVIEW, "Thank you, and would you {} your rating?", "revise"),
    (CHANGE_REVIEW, "Thank you, and please {} your feedback once we have talked.", "update"),
    (CHANGE_REVIEW, "Thank you, and please {} what you wrote.", "edit"),
    (CHANGE_REVIEW, "Thank you, and we would love {} stars next time.", "five"),
    (CHANGE_REVIEW, "Thank you, and we hope for a {} rating after we talk.", "better"),
    (CHANGE_REVIEW, "Thank you, and please {} your comment.", "withdraw"),
    (CHANGE_REVIEW, "Thank you, and perhaps you could {} your review?", "rethink"),
    # arguing, blaming, excuses
    (ARGUING, "We are sorry, we were {}-staffed.", "short"),
    (ARGUING, "We are sorry, we were {}.", "understaffed"),
    (ARGUING, "Thank you, our {} show otherwise.", "records"),
    (ARGUING, "Thank you, you {} ordered the soup.", "never"),
    (ARGUING, "Thank you, that is not {}.", "true"),
    (ARGUING, "Thank you, {} the kitchen did its best.", "however"),
    (ARGUING, "Thank you, {} it was a full house.", "unfortunately"),
    (ARGUING, "Thank you, it was your {}.", "fault"),
    (ARGUING, "Thank you, {} we followed the recipe.", "actually"),
    (ARGUING, "Thank you, this review is {}.", "incorrect"),
    (ARGUING, "Thank you, this review is {}.", "exaggerated"),
    (ARGUING, "We are sorry, our kitchen was {}.", "overwhelmed"),
    (ARGUING, "Thank you, we tried hard {} you left early.", "but"),
    # facts of the case and the reviewer's personal data
    (CASE_FACTS, "Thank you, we have looked up your {} number.", "order"),
    (CASE_FACTS, "Thank you, we found your {} reference.", "booking"),
    (CASE_FACTS, "Thank you, we have your {} for four people.", "reservation"),
    (CASE_FACTS, "Thank you for coming in {}.", "yesterday"),
    (CASE_FACTS, "Thank you for visiting us last {}.", "friday"),
    (CASE_FACTS, "Thank you for visiting us in {}.", "march"),
    (CASE_FACTS, "Thank you, we have checked your {}.", "receipt"),
    (CASE_FACTS, "Thank you, we remember your {} by the window.", "table"),
    (CASE_FACTS, "Thank you, we have spoken to your {}.", "waiter"),
    (CASE_FACTS, "Thank you, we have found your {}.", "invoice"),
]

def _word_cases():
    for (rule, sentence, word), (name, disguise) in itertools.product(WORD_CASES, DISGUISES.items()):
        disguised = disguise(word)
        if name != "plain" and disguised == word:
            continue  # nothing in this word to disguise that way
        yield pytest.param(rule, sentence.format(disguised), id=f"{word}-{name}")


# Other contact details than the configured one, written as people hide them.
CONTACT_CASES = [
    "maria@gmail.com", "Maria@Gmail.COM", "maria at gmail dot com", "maria (at) gmail (dot) com",
    "maria [at] gmail [dot] com", "maria @ gmail . com", "maria at gmail.com", "mаria@gmаil.com",
    "ｍａｒｉａ＠ｇｍａｉｌ．ｃｏｍ", "maria@gmail\u200b.com", "maria＠gmail．com",
    "07700 900123", "07700.900.123", "+44 7700-900-123", "(0)7700 900 123", "０７７００ ９００１２３",
    "٠٧٧٠٠ ٩٠٠١٢٣", "𝟎𝟕𝟕𝟎𝟎 𝟗𝟎𝟎𝟏𝟐𝟑", "०७७०० ९००१२३",
    "www.harbour-deals.com", "https://harbour-deals.net", "HTTPS://Harbour-Deals.NET/offer", "harbour-deals dot com",
    "harbour-deals[.]com", "harbour-deals(.)com", "bit.ly/3xYz", "harbourdeals.co.uk", "tinyurl.com/abc",
    "ｗｗｗ．ｈａｒｂｏｕｒ－ｄｅａｌｓ．ｃｏｍ", "harbour-deals.shop",
    "Instagram @harbour_real", "@harbour_real", "our Instagram", "WhatsApp", "W h a t s A p p", "WhatsАpp",
    "Facebook Messenger", "Telegram", "a DM on Twitter", "TikTok",
]


def test_the_carrier_reply_passes_without_anything_smuggled() -> None:
    assert problems(reply("Thank you again, we hope to talk soon.")) == []
    assert problems(reply("You can also contact us through hello@harbourlane.example.")) == []


@pytest.mark.parametrize(("rule", "sentence"), list(_word_cases()))
def test_a_smuggled_word_is_caught_however_it_is_written(rule: str, sentence: str) -> None:
    found = problems(reply(sentence))
    assert any(rule in p for p in found), (sentence, found)


@pytest.mark.parametrize("other", CONTACT_CASES)
def test_another_contact_is_caught_however_it_is_written(other: str) -> None:
    for contact in (EMAIL, PHONE, URL):
        text = (f"Hi Ana, thank you for your feedback. Please contact us at {contact.value}. "
                f"You can also contact us through {other}. Kind regards, the {BUSINESS} team")
        found = problems(text, contact)
        assert any(OTHER_CONTACT in p for p in found), (text, found)


@pytest.mark.parametrize(
    "greeting",
    ["Dear Ana Pereira,", "Hi Ana Pereira!", "Hello ANA PEREIRA,", "Dear Ana Реreira,", "Dear Ｐｅｒｅｉｒａ Ana,",
     "Dear Mrs Pereira,", "Hi Ana 𝐏𝐞𝐫𝐞𝐢𝐫𝐚,"],
)
def test_the_reviewers_full_name_is_caught(greeting: str) -> None:
    text = greeting + " thank you for your feedback, and we are sorry. " + INVITE
    found = problems(text)
    assert any(FULL_NAME in p for p in found), (text, found)


CLEAN = [
    (EMAIL, BUSINESS, OPEN + INVITE + CLOSE),
    (EMAIL, BUSINESS, "Hello,\n\nWe're truly sorry to hear this, and thank you for letting us know. "
                      "Please feel free to e-mail us at hello@harbourlane.example.\n\nBest wishes,\nMaria, General Manager"),
    (EMAIL, BUSINESS, "Dear Zoë,\n\nThank you for taking the time to write. We apologise that your visit fell short. "
                      "We would welcome the chance to talk: please get in touch at HELLO@HARBOURLANE.EXAMPLE.\n\n— Tom"),
    (EMAIL, BUSINESS, "Hi there, we appreciate your honest feedback and we are sorry. "
                      "Could you drop us a line at hello@harbourlane.example? We'd love to hear from you. Cheers, the team"),
    (EMAIL, BUSINESS, "Hi Mary-Jane, thank you for sharing your experience. Please reach out to our management team at "
                      "hello@harbourlane.example for a follow-up conversation. Warm regards, The Owners"),
    (PHONE, BUSINESS, "We're sorry to hear this. Please call us on +44 (20) 7946-0000.\n\nKind regards,\nThe Harbour Lane Bistro team"),
    (PHONE, BUSINESS, "Thank you for your review, and we are sorry. Please give us a ring on +44 20 7946 0000 "
                      "and ask for the manager. Sincerely, the management"),
    (PHONE, BUSINESS, "Thank you for your review, and we are sorry. Please call us on ＋４４ ２０ ７９４６ ００００. Regards"),
    (URL, BUSINESS, "Hi Ana, thank you for your review. We are sorry and would like to understand what happened. "
                    "Please get in touch through https://harbourlane.example/contact. Kind regards"),
    (EMAIL, "Café Ünïcode & Co.", "Hi Ana, thank you for your feedback, and we are sorry. Please email us at "
                                  "hello@harbourlane.example. Warm regards, the Café Ünïcode & Co. team"),
    (EMAIL, "B.B.Q. Shack No. 5", "Thank you for sharing this, and we apologise. Please contact us at "
                                  "hello@harbourlane.example. — the B.B.Q. Shack No. 5 team"),
    (EMAIL, "The Free House", "Thank you for your feedback, and we are sorry. Please contact us at "
                              "hello@harbourlane.example. Regards, The Free House"),
    (EMAIL, "Ｈａｒｂｏｕｒ Lane", "Sorry to hear this, and thank you for telling us. Please email "
                                "hello@harbourlane.example. The Harbour Lane team"),
    (EMAIL, "Κέρκυρα Taverna", "Thank you for your feedback, and we are sorry. Please email hello@harbourlane.example. "
                               "Regards, Κέρκυρα Taverna"),
    (EMAIL, BUSINESS, "Hi Ζωή, thank you for your feedback, and we are sorry. " + INVITE + CLOSE),
    (EMAIL, BUSINESS, "Hi Ana, thank you for the feedback; we take it seriously and are sorry. "
                      "Please email us at hello@harbourlane.example, and we will be in touch. Best regards, Maria"),
    (EMAIL, BUSINESS, "Dear Valued Guest, thank you for your review, and we are sorry. " + INVITE + CLOSE),
    (EMAIL, BUSINESS, "Hello Fellow Foodie! We are sorry, and thank you for telling us. " + INVITE + CLOSE),
    (EMAIL, BUSINESS, "Hello Ana, thank you for your review. We apologise, and we would like to speak with you personally. "
                      "Please send us a message at hello@harbourlane.example. Yours sincerely, The Management"),
]


@pytest.mark.parametrize(("contact", "business", "text"), CLEAN)
def test_clean_replies_still_pass(contact: Contact, business: str, text: str) -> None:
    assert problems(text, contact, business) == []


def _smuggled_edits() -> list[str]:
    """Every adversarial case once, each in a different disguise, as a whole reply."""
    disguises = itertools.cycle(DISGUISES.values())
    texts = [reply(sentence.format(next(disguises)(word))) for _, sentence, word in WORD_CASES]
    texts += [reply(f"You can also contact us through {other}.") for other in CONTACT_CASES]
    texts += ["Dear Ana Pereira, thank you for your feedback, and we are sorry. " + INVITE]
    return texts


def test_an_owner_edit_that_smuggles_any_of_them_is_never_approved(make_context, fake_type) -> None:
    from tests.fakeconnector import FakeSource, review

    FakeSource().page(review("bad", "Awful, cold food, rude staff.", 1, author="Nora"), cursor={"n": 1})
    ctx = make_context([{"name": "fake", "type": "fake"}])
    asyncio.run(poll_module.poll(ctx))
    with ctx.session() as session:
        [draft] = queries.draft_rows(session)
    for text in _smuggled_edits():
        verdict = approvals.edit(ctx, draft["id"], text, actor="owner")
        assert not verdict.ok, text
        with pytest.raises(PolicyViolation):
            approvals.approve(ctx, draft["id"], actor="owner")
        with ctx.session() as session:
            assert queries.draft(session, draft["id"])["status"] == "drafted", text
    clean = OPEN + INVITE + CLOSE  # and the guard is no wall: a clean edit goes through
    assert approvals.edit(ctx, draft["id"], clean, actor="owner").ok
    approvals.approve(ctx, draft["id"], actor="owner")
    with ctx.session() as session:
        assert queries.draft(session, draft["id"])["status"] == "approved"
