"""py3langid's language model, kept unpacked in reviewmon's cache folder.

py3langid ships its model as an LZMA-compressed npz (4.6 MB). Unpacking it costs about
0.3 s of CPU in every process that meets a text that is not plainly English, and a big
import has three such processes (the poll and its two scoring helpers), each waiting
for it before its first batch. So the first load keeps the unpacked npz (68 MB) in the
cache folder, and later loads read that in about 0.06 s.

The folder is REVIEWMON_CACHE_DIR, else the user's cache folder (platformdirs:
~/.cache/reviewmon on Linux). Any trouble with the copy (no writable folder, a damaged
file, a py3langid whose model is laid out otherwise) falls back to the library's own
load: slower, never wrong.
"""

from __future__ import annotations

import contextlib
import logging
import lzma
import os
import shutil
import tempfile
import time
from array import array
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("reviewmon.language")

CACHE_ENV = "REVIEWMON_CACHE_DIR"
_TYPECODES = {2: "H", 4: "I", 8: "L"}
STALE_PART = 3600  # seconds after which a half-written copy is a crash's, not a process's at work


def cache_folder() -> Path:
    import platformdirs

    return Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_path("reviewmon"))


def load_identifier() -> Any:
    """py3langid's LanguageIdentifier (probabilities normalised), from the unpacked copy."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    shipped = MODEL_DIR / MODEL_FILE
    copy = cache_folder() / f"py3langid-{version('py3langid')}-{shipped.stat().st_size}.npz"
    try:
        if not copy.exists():
            _unpack(shipped, copy)
        return _from_unpacked(copy, LanguageIdentifier)
    except Exception as exc:  # noqa: BLE001 - any trouble: the library's own, slower load
        log.info("language model: not using the unpacked copy at %s (%s); unpacking it in memory", copy, exc)
        with contextlib.suppress(OSError):
            copy.unlink(missing_ok=True)
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _unpack(shipped: Path, copy: Path) -> None:
    """Write the unpacked model beside its final name, then rename: processes starting
    together each write their own, and none ever reads half a file."""
    copy.parent.mkdir(parents=True, exist_ok=True)
    for old in copy.parent.glob("py3langid-*"):  # another py3langid's model, or what a crash left half-written
        if old != copy and (old.suffix == ".npz" or old.stat().st_mtime < time.time() - STALE_PART):
            old.unlink(missing_ok=True)
    out = tempfile.NamedTemporaryFile(dir=copy.parent, prefix="py3langid-", suffix=".part", delete=False)
    try:
        with out, lzma.open(shipped) as packed:
            shutil.copyfileobj(packed, out, 1 << 20)
        os.replace(out.name, copy)
    except BaseException:  # a full disk, say: leave no half copy behind
        Path(out.name).unlink(missing_ok=True)
        raise


def _from_unpacked(copy: Path, identifier: Any) -> Any:
    """The arrays py3langid's own loader reads from the same npz, handed to its class."""
    with np.load(copy, allow_pickle=False) as model:
        return identifier(
            np.asarray(model["ptc"]), np.asarray(model["pc"]), model["classes"].tolist(), _as_array(model["nextmove"]),
            model["out_feat"].tolist(), norm_probs=True, tk_row=_as_array(model["nextmove_row"]),
        )


def _as_array(values: np.ndarray) -> array:
    """The DFA tables as the stdlib arrays py3langid walks (faster to index than NumPy)."""
    out = array(_TYPECODES[values.dtype.itemsize])
    out.frombytes(memoryview(np.ascontiguousarray(values)).cast("B"))  # no third copy of 39 MB
    return out
