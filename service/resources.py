"""Find the files that ship beside the code, from a checkout or an installed wheel.

In a checkout `alembic/` and `reply_templates/` sit at the top of the repository,
where alembic and template authors expect them. The wheel carries them inside the
package as `service/_bundled/<name>` (see pyproject.toml), because a top-level
`alembic` package would shadow the alembic library itself.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """Return the directory `name` (e.g. "alembic") wherever this installation keeps it."""
    for candidate in (_PACKAGE_DIR / "_bundled" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"reviewmon is installed without its {name}/ folder (looked in {_PACKAGE_DIR})")


def migrations_dir() -> Path:
    return bundled_dir("alembic")


def reply_templates_dir() -> Path:
    return bundled_dir("reply_templates")
