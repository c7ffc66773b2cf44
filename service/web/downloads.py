"""CSV downloads from the web app: streamed in chunks, so a million rows never sit in
memory, and safe to open in a spreadsheet (a text cell that would run as a formula is
defused: everything in them came from strangers)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fastapi.responses import StreamingResponse

from service.output import csv_value, spreadsheet_safe

CHUNK_ROWS = 1000


def csv_download(rows: Iterable[dict[str, Any]], fields: Sequence[str], filename: str) -> StreamingResponse:
    """`rows` is read while the response is sent: a generator may hold its session open."""

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for count, row in enumerate(rows, start=1):
            writer.writerow({k: spreadsheet_safe(csv_value(row.get(k))) for k in fields})
            if count % CHUNK_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
