"""Ways to write a word so that a naive check misses it while a reader still sees it,
for the guard's tests (tests/replies/): each takes a word and returns it disguised."""

from __future__ import annotations

_CYRILLIC = str.maketrans("aceopxyijsAEOPCXHTMBK", "асеорхуіјѕАЕОРСХНТМВК")
_GREEK = str.maketrans("aoivpuABEHIKMNOPTXYZ", "αοινρυΑΒΕΗΙΚΜΝΟΡΤΧΥΖ")
_LEET = str.maketrans("aeiost", "431057")
_ACCENTS = str.maketrans("aeiouc", "áéíöúç")
_SMALL_CAPITALS = str.maketrans("abcdefghijklmnoprstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ")


def _styled(word: str, upper: int, lower: int) -> str:
    """The word in a Unicode letter style (full-width, mathematical bold, ...)."""
    return "".join(chr(upper + ord(c) - 65) if c.isupper() else chr(lower + ord(c) - 97) if c.islower() else c for c in word)


def _middle(word: str, mark: str) -> str:
    half = len(word) // 2
    return word[:half] + mark + word[half:]


DISGUISES = {
    "plain": lambda w: w,
    "upper": str.upper,
    "alternating case": lambda w: "".join(c.upper() if i % 2 else c for i, c in enumerate(w)),
    "spaced": lambda w: " ".join(w),
    "dotted letters": lambda w: ".".join(w),
    "hyphenated": lambda w: _middle(w, "-"),
    "dot inside": lambda w: _middle(w, "."),
    "zero-width space": lambda w: _middle(w, "\u200b"),
    "soft hyphen": lambda w: _middle(w, "\u00ad"),
    "zero-width joiners throughout": lambda w: "\u200d".join(w),
    "cyrillic look-alikes": lambda w: w.translate(_CYRILLIC),
    "greek look-alikes": lambda w: w.translate(_GREEK),
    "full-width": lambda w: _styled(w, 0xFF21, 0xFF41),
    "mathematical bold": lambda w: _styled(w, 0x1D400, 0x1D41A),
    "sans-serif bold italic": lambda w: _styled(w, 0x1D63C, 0x1D656),
    "accented": lambda w: w.translate(_ACCENTS),
    "combining marks": lambda w: "".join(c + "\u0301" for c in w),
    "leetspeak": lambda w: w.translate(_LEET),
    "no-break space": lambda w: _middle(w, "\u00a0"),
    "filler": lambda w: _middle(w, "\u3164"),
    "small capitals": lambda w: w.lower().translate(_SMALL_CAPITALS),
    "circled": lambda w: "".join(chr(0x24D0 + ord(c) - 97) if "a" <= c <= "z" else c for c in w.lower()),
    "right-to-left override": lambda w: "\u202e" + w[::-1] + "\u202c",
    "html entities": lambda w: "".join(f"&#{ord(c)};" if i % 2 else c for i, c in enumerate(w)),
}

# Disguises that restyle every letter: one at most, on plain letters (a second would
# restyle what is no longer a letter, which nobody could read either).
STYLES = ("upper", "alternating case", "cyrillic look-alikes", "greek look-alikes", "full-width", "mathematical bold",
          "sans-serif bold italic", "accented", "leetspeak", "small capitals", "circled")
# Disguises shown last: what they wrap must not be changed afterwards.
WRAPPERS = ("right-to-left override", "html entities")
SEPARATORS = tuple(name for name in DISGUISES if name not in STYLES + WRAPPERS + ("plain",))

