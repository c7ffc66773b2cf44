"""The language model loads from an unpacked copy in the cache folder, and says exactly
what py3langid's own load says; any trouble with the copy falls back to that load."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from service.reading import langid_model

TEXTS = [
    "Das Essen war kalt und der Kellner war unfreundlich, wir kommen nicht wieder.",
    "La comida estaba fría y el camarero fue muy grosero con nosotros.",
    "Le service était lent mais le dessert était délicieux.",
    "Jedzenie było zimne, a kelner niegrzeczny.",
    "食べ物は冷たくて、店員は失礼でした。",
    "Good food, slow service, lovely view of the harbour.",
]
SHIPPED = MODEL_DIR / MODEL_FILE
LIBRARY = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(langid_model.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def copies(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_the_first_load_keeps_an_unpacked_copy_and_the_next_reads_it_without_unpacking(cache: Path, monkeypatch) -> None:
    first = langid_model.load_identifier()
    [name] = copies(cache)
    assert name.startswith("py3langid-") and name.endswith(".npz")

    def unpack_again(*args):
        raise AssertionError("the copy was there: nothing to unpack")

    monkeypatch.setattr(langid_model, "_unpack", unpack_again)
    again = langid_model.load_identifier()
    for text in TEXTS:
        assert first.classify(text) == again.classify(text) == LIBRARY.classify(text)


def test_a_damaged_copy_is_dropped_and_the_library_load_answers(cache: Path) -> None:
    langid_model.load_identifier()
    [name] = copies(cache)
    (cache / name).write_bytes((cache / name).read_bytes()[:1000])  # a disk that lost the rest
    identifier = langid_model.load_identifier()
    assert [identifier.classify(t) for t in TEXTS] == [LIBRARY.classify(t) for t in TEXTS]
    assert copies(cache) == []  # the next load unpacks a whole one again
    langid_model.load_identifier()
    assert copies(cache) == [name]


def test_a_cache_folder_that_cannot_be_written_still_gives_the_model(tmp_path: Path, monkeypatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv(langid_model.CACHE_ENV, str(blocked / "cache"))
    identifier = langid_model.load_identifier()
    assert identifier.classify(TEXTS[0]) == LIBRARY.classify(TEXTS[0])


def test_an_older_model_and_a_crashed_half_copy_are_cleared_away(cache: Path) -> None:
    import os
    import time

    cache.mkdir()
    (cache / "py3langid-0.3.0-4000000.npz").write_bytes(b"an older release's model")
    crashed = cache / "py3langid-abc.part"
    crashed.write_bytes(b"half")
    os.utime(crashed, (time.time() - 2 * langid_model.STALE_PART,) * 2)
    writing = cache / "py3langid-def.part"  # another process writing its copy right now
    writing.write_bytes(b"half")
    langid_model.load_identifier()
    assert [n for n in copies(cache) if n.endswith(".npz")] == [f"py3langid-{version('py3langid')}-{SHIPPED.stat().st_size}.npz"]
    assert "py3langid-def.part" in copies(cache) and "py3langid-abc.part" not in copies(cache)


def test_a_disk_that_fills_up_while_unpacking_leaves_no_half_copy(cache: Path, monkeypatch) -> None:
    import errno
    from types import SimpleNamespace

    def full_disk(source, target, length):
        target.write(source.read(1 << 20))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(langid_model, "shutil", SimpleNamespace(copyfileobj=full_disk))  # ours only, not py3langid's
    identifier = langid_model.load_identifier()
    assert identifier.classify(TEXTS[1]) == LIBRARY.classify(TEXTS[1])  # the library's own load
    assert copies(cache) == []
