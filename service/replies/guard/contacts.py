"""Every way a reply can point somewhere: email addresses, web addresses and bare domains,
phone numbers (also written in words), @handles. Each must be exactly one of the channels
configured for the review's source: a longer address that contains a configured one is
another address. Messaging services by name are words of the lexicons ("WhatsApp").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.config import Contact
from service.replies.guard.normalise import fold

_TLDS = (
    "com|net|org|info|biz|app|dev|io|co|me|tv|ly|gl|gg|eu|uk|de|fr|es|it|nl|be|ch|at|ie|pt|us|ca|au|nz|se|no|dk|fi|pl"
    "|cz|mx|ar|br|cl|jp|cn|in|ru|shop|store|online|site|xyz|page|club|top|link|website|email|example|test|local|bar"
    "|cafe|restaurant|menu|pizza|kitchen|wine|hotel|travel|reviews"
)
_DOT = (r"(?:\.(?=[a-z0-9])|\s+\.\s+(?=[a-z0-9])|\s*[(\[{]\s*(?:dot|punto|point|punkt|\.)\s*[)\]}]\s*"
        r"|\s+(?:dot|punto|point|punkt)\s+)")
_AT = r"(?:\s*@\s*|\s*[(\[{]\s*(?:at|arroba|arobase)\s*[)\]}]\s*)"
EMAIL = re.compile(rf"[a-z0-9._%+\-]+{_AT}[a-z0-9\-]+(?:{_DOT}[a-z0-9\-]+)+"
                   rf"|[a-z0-9._%+\-]+\s+(?:at|arroba|arobase)\s+[a-z0-9\-]+(?:\s+(?:dot|punto|point|punkt)\s+[a-z0-9\-]+)+")
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+"
    rf"|(?<![@\w.\-])[a-z0-9\-]{{3,}}{_DOT}(?:[a-z0-9\-]+{_DOT})*(?:{_TLDS})(?:/[^\s<>\"'()\[\]{{}}]*)?(?![\w\-])"
)
PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().\-/]{5,}\d(?![\w])")
HANDLE = re.compile(r"(?<![\w.@])@[a-z0-9_][a-z0-9_.]*[a-z0-9_]")
_TRAILING = ".,;:!?)]}'\""
# "votre point de vue", "un point d'honneur": French phrases, not a domain spelled "votre.de"
_A_PHRASE = re.compile(r"\spoint\s+de$")
_A_PHRASE_GOES_ON = re.compile(r"\s+(?:vue|depart|repere|rencontre|detail|reference)\b")


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    kind: str  # email | url | phone | handle
    text: str
    configured: bool


def find(text: str, channels: Sequence[Contact], digit_words: Iterable[str]) -> list[Found]:
    """Every contact in the folded `text`, marked configured or not; no two overlap."""
    taken: list[tuple[int, int]] = []
    found: list[Found] = []
    for kind, pattern in (("email", EMAIL), ("url", URL), ("handle", HANDLE), ("phone", PHONE)):
        for match in pattern.finditer(text):
            start, end = match.start(), match.end()
            while end > start and text[end - 1] in _TRAILING:
                end -= 1
            if kind == "phone" and len(re.sub(r"\D", "", text[start:end])) < 7:
                continue
            if kind == "url" and _A_PHRASE.search(text[start:end]) and _A_PHRASE_GOES_ON.match(text, end):
                continue  # "votre point de vue": a French phrase, not "votre.de"
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            value = text[start:end]
            found.append(Found(start, end, kind, value, is_configured(kind, value, channels)))
    found += _phone_in_words(text, set(digit_words), taken)
    return sorted(found, key=lambda f: f.start)


def is_configured(kind: str, value: str, channels: Sequence[Contact]) -> bool:
    for channel in channels:
        wanted = fold(channel.value)
        if kind == "email" and channel.kind == "email":
            if _squash(value) == _squash(wanted):
                return True
        elif kind == "url" and channel.kind == "url":
            if _canonical_url(value) == _canonical_url(wanted):
                return True
        elif kind == "phone" and channel.kind == "phone":
            if re.sub(r"\D", "", value) == re.sub(r"\D", "", wanted):
                return True
    return False


def as_written(text: str) -> str:
    """A contact as its characters are, for the exact comparison: compatibility forms and
    case only (full-width digits are digits), no look-alikes, nothing invisible removed."""
    return unicodedata.normalize("NFKC", text).casefold()


def _squash(address: str) -> str:
    """An address as it is meant, whatever spelling of @ and . hides it."""
    address = re.sub(rf"{_AT}|\s+(?:at|arroba|arobase)\s+", "@", address)
    return re.sub(rf"{_DOT}", ".", address).strip()


def _canonical_url(url: str) -> str:
    url = _squash(url)
    url = re.sub(r"^https?://", "", url)
    url = re.sub(r"^www\.", "", url)
    return url.rstrip("/")


def _phone_in_words(text: str, digit_words: set[str], taken: list[tuple[int, int]]) -> list[Found]:
    """Five or more digits written as words in a row ("oh two oh seven nine ..."): a phone number."""
    found = []
    run: list[re.Match[str]] = []
    for match in [*re.finditer(r"[^\W_]+", text), None]:
        if match is not None and match.group() in digit_words:
            run.append(match)
            continue
        if len(run) >= 5:
            start, end = run[0].start(), run[-1].end()
            if not any(start < b and a < end for a, b in taken):
                found.append(Found(start, end, "phone", text[start:end], False))
        run = []
    return found
