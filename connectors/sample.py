"""The bundled offline sample: a fictional bistro's reviews, read like a file source.

Lets `make run` and a fresh install show the whole loop without network or credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from connectors import base
from connectors.file import FileConnector, FileOptions

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"


class SampleOptions(base.Options):
    dataset: Literal["harbour-lane-bistro"] = "harbour-lane-bistro"
    platform: str = "Google"


class SampleConnector(FileConnector):
    Options = SampleOptions

    def __init__(self, options: SampleOptions, **kwargs: Any):
        path = SAMPLE_DIR / f"{options.dataset}.jsonl"
        super().__init__(FileOptions(path=path, format="jsonl", platform=options.platform), **kwargs)
