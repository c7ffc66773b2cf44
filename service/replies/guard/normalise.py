"""Read a reply as a person would see it, before any rule judges it.

A disguise changes how a text is stored, not what a reader sees: full-width, mathematical,
circled letters and small capitals look like plain letters; zero-width characters,
fillers and bidirectional controls are not seen at all; a right-to-left override shows
the letters after it backwards; an HTML entity shows as its character; a markdown link
shows its label (and hides where it goes, which is why the target is kept too);
Cyrillic "е" looks like Latin "e". `read()` undoes each of these and case-folds, and it
keeps, for every character it returns, the index of the character it came from, so a
refused clause can be marked in the text the owner typed.

Accents are removed too ("réfund" is "refund"): the lexicons are folded the same way.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Invisible characters that Unicode files as letters or symbols, not as format characters.
FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5")
NO_BREAK_SPACES = frozenset("\u00a0\u202f\u2007")
APOSTROPHES = frozenset("\u2018\u2019\u02bc\u2032\uff07")
RIGHT_TO_LEFT_OVERRIDE = "\u202e"
ENDS_OVERRIDE = frozenset("\u202c\u2069\n")
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]{0,200})\]\(([^()\s]{1,500})\)")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")


@dataclass(frozen=True)
class Reading:
    """The folded text a person reads, and where each of its characters came from."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The range of the original text behind text[start:end]."""
        if start >= end:
            return (self.origin[start] if start < len(self.origin) else len(self.origin), ) * 2
        return self.origin[start], self.origin[end - 1] + 1


def read(text: str) -> Reading:
    chars, origin = _resolve_markup(text)
    chars, origin = _undo_overrides(chars, origin)
    out: list[str] = []
    where: list[int] = []
    for ch, index in zip(chars, origin):
        folded = fold_char(ch)
        out.append(folded)
        where.extend([index] * len(folded))
    return Reading("".join(out), tuple(where))


def fold(text: str) -> str:
    """The folded form alone (for lexicon entries and configured values)."""
    return read(text).text


def _resolve_markup(text: str) -> tuple[list[str], list[int]]:
    """HTML entities to their characters; markdown links to 'label (target)'."""
    chars: list[str] = []
    origin: list[int] = []
    position = 0
    pattern = re.compile(f"{_MARKDOWN_LINK.pattern}|{_ENTITY.pattern}")
    for match in pattern.finditer(text):
        for index in range(position, match.start()):
            chars.append(text[index])
            origin.append(index)
        if match.group(0).startswith("["):
            shown = f"{match.group(1)} ({match.group(2)})"
        else:
            shown = html.unescape(match.group(0))
        chars.extend(shown)
        origin.extend([match.start()] * len(shown))
        position = match.end()
    for index in range(position, len(text)):
        chars.append(text[index])
        origin.append(index)
    return chars, origin


def _undo_overrides(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """What follows a right-to-left override is shown reversed, up to its end or the line's."""
    if RIGHT_TO_LEFT_OVERRIDE not in chars:
        return chars, origin
    out_chars: list[str] = []
    out_origin: list[int] = []
    index = 0
    while index < len(chars):
        if chars[index] != RIGHT_TO_LEFT_OVERRIDE:
            out_chars.append(chars[index])
            out_origin.append(origin[index])
            index += 1
            continue
        end = index + 1
        while end < len(chars) and chars[end] not in ENDS_OVERRIDE:
            end += 1
        out_chars.extend(reversed(chars[index + 1:end]))
        out_origin.extend(reversed(origin[index + 1:end]))
        index = end
    return out_chars, out_origin


@lru_cache(maxsize=16384)
def fold_char(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    if ch in FILLERS:
        return ""
    if ch in APOSTROPHES:
        return "'"
    category = unicodedata.category(ch)
    if category in ("Cf", "Mn", "Me", "Cc"):  # zero-width, bidi controls, soft hyphen, stray marks
        return "\n" if ch in "\u2028\u2029\x85" else ""
    if ch in NO_BREAK_SPACES:
        return "\u00a0"  # kept apart from a space: between two letters it cuts a word, it does not part two
    if category in ("Zs", "Zl", "Zp"):
        return " "
    name = unicodedata.name(ch, "")
    if "SMALL CAPITAL" in name and name.split()[-1].isalpha() and len(name.split()[-1]) == 1:
        return name.split()[-1].lower()  # ᴀ ʙ ᴄ: Unicode gives them no plain-letter equivalent
    if ch.isalpha() and unicodedata.normalize("NFKC", ch) == ch and not unicodedata.name(ch, "").startswith("LATIN"):
        look_alike = _latin_look_alike(ch)  # before case-folding: Cyrillic "Н" looks like "H", its "н" like nothing
        if len(look_alike) == 1 and look_alike != ch:
            return look_alike
    out = []
    for piece in unicodedata.normalize("NFKC", ch):
        for c in unicodedata.normalize("NFD", piece.casefold()):
            if unicodedata.category(c) in ("Mn", "Me"):
                continue  # accents
            if c.isascii():
                out.append(c.lower())
            elif unicodedata.category(c) == "Nd":
                out.append(str(unicodedata.decimal(c)))
            elif unicodedata.category(c) in ("Zs",):
                out.append(" ")
            else:
                out.append(_latin_look_alike(c))
    return "".join(out)


def _latin_look_alike(ch: str) -> str:
    """The ASCII letter or digit `ch` can pass for (Cyrillic "е", Greek "ο", ...), else `ch`."""
    # imported here: its table takes 40 ms to load, and only a reply with a non-ASCII
    # letter that is not an accented Latin one ever needs it
    from confusable_homoglyphs import confusables

    for found in confusables.is_confusable(ch, greedy=True, preferred_aliases=[]) or []:
        for glyph in found["homoglyphs"]:
            if glyph["c"].isascii() and glyph["c"].isalnum():
                return glyph["c"].lower()
    return ch


def replace_spans(reading: Reading, spans: list[tuple[int, int, str]]) -> Reading:
    """`reading` with each (start, end) range replaced; the replacement points at the range."""
    out: list[str] = []
    where: list[int] = []
    position = 0
    for start, end, replacement in sorted(spans, key=lambda span: (span[0], -span[1])):  # the longest find wins
        if start < position:
            continue  # overlapping finds: the first one wins
        out.append(reading.text[position:start])
        where.extend(reading.origin[position:start])
        out.append(replacement)
        anchor = reading.origin[start] if start < len(reading.origin) else (reading.origin[-1] + 1 if reading.origin else 0)
        last = reading.origin[end - 1] if start < end <= len(reading.origin) else anchor
        tail = len(replacement.rstrip()) - 1  # from its last letter on, it points at the end of what it replaced
        where.extend(anchor if k < tail else last for k in range(len(replacement)))
        position = end
    out.append(reading.text[position:])
    where.extend(reading.origin[position:])
    return Reading("".join(out), tuple(where))
