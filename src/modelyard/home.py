"""The home folder (``MODELYARD_HOME``): private to the user who runs modelyard.

It holds the SQLite database, the admin key, the key that encrypts provider credentials,
uploaded files and fine-tuned weights. A new home is created 0700 and the files modelyard
creates in it 0600; an existing home is left as its owner set it, with a warning at start
when other local users can read it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["create_private_file", "ensure_home", "exposure_warning"]

# Group or others may read, write or enter.
_SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


def ensure_home(home: Path) -> None:
    """Create ``home`` 0700 if it is missing (its parents, if any are missing, as usual)."""
    if not home.exists():
        home.parent.mkdir(parents=True, exist_ok=True)
        home.mkdir(mode=0o700, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 unless it exists; its folder, if missing, 0700."""
    if not path.parent.exists():
        ensure_home(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def exposure_warning(home: Path) -> str | None:
    """A warning naming what in ``home`` other local users can read, or None when nothing."""
    if not home.is_dir():
        return None
    exposed = [p for p in (home, *sorted(home.iterdir())) if _shared(p)]
    if not exposed:
        return None
    names = ", ".join(p.name or str(p) for p in exposed[:6]) + (" ..." if len(exposed) > 6 else "")
    return (
        f"{home} is readable by other local users ({names}); it holds the database and the keys. "
        f"Run: chmod -R go-rwx {home}"
    )


def _shared(path: Path) -> bool:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return not stat.S_ISLNK(mode) and bool(mode & _SHARED_BITS)
