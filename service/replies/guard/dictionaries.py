"""What general dictionaries say of a word, so the lexicons need list each word once.

- The lemma (simplemma's dictionaries): a lexicon lists "retenir" and "ärgern", and the
  guard knows "retenons" and "ärgert" as well. Inflections are where a new writer's
  words most often differ from the lists, not in what the words mean.
- Whether a word is a first name (gender-guesser's name dictionary): German writes every
  noun with a capital, and "Grund" or "Manager" must not be read as a person while
  "Thomas" and "Bella" are.

Both look-ups are cached per process; a word is looked up as written (accents and case
matter to the dictionaries) and the answer is folded for comparing with a lexicon.
"""

from __future__ import annotations

from functools import cache, lru_cache

import simplemma

from service.replies.guard.normalise import fold


@lru_cache(maxsize=65536)
def lemma(word: str, language: str) -> str:
    """The folded dictionary form of `word` in `language`; the folded word itself if the
    dictionary does not know it."""
    if not word.isalpha():
        return fold(word)
    try:
        return fold(simplemma.lemmatize(word, lang=language))
    except ValueError:  # a language simplemma has no dictionary for
        return fold(word)


@lru_cache(maxsize=65536)
def is_word(word: str, language: str) -> bool:
    """Whether the language's dictionary knows `word` (as written, or in lower case)."""
    try:
        return simplemma.is_known(word, lang=language) or simplemma.is_known(word.lower(), lang=language)
    except ValueError:
        return False


@cache
def _first_names():
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


@lru_cache(maxsize=65536)
def is_first_name(word: str) -> bool:
    """Whether `word` is a first name in the name dictionary (of any country)."""
    return word.isalpha() and _first_names().get_gender(word) != "unknown"
