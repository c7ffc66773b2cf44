"""Is this text English? VADER's lexicon is English only, so the sentiment pass asks.

py3langid (a maintained fork of langid.py that ships its model) decides; its model is
loaded on first use, not at import. Short texts carry too little signal to tell a
language apart and are taken as English: VADER simply finds nothing in them.
"""

from __future__ import annotations

import re
import threading
from functools import cache

MIN_LETTERS = 20  # below this, identification is a guess
MIN_CONFIDENCE = 0.90

# Matches when the text holds MIN_LETTERS letters, and stops reading there.
_ENOUGH_LETTERS = re.compile(r"(?:[\W\d_]*[^\W\d_]){%d}" % MIN_LETTERS)
_lock = threading.Lock()


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> str | None:
    """An ISO 639-1 code when the text is long enough and the model is sure; else None."""
    if not _ENOUGH_LETTERS.match(text, 0, 2000):
        return None
    with _lock:  # the identifier keeps scratch state
        language, confidence = _identifier().classify(text[:5000])
    return language if confidence >= MIN_CONFIDENCE else None
