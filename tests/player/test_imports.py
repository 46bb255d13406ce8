"""The player stands alone: no server code, no web framework, no ORM, nothing at import time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import player, player.cli, player.agent, player.display.headless, player.display.cards
heavy = sorted(
    m for m in sys.modules
    if m.split(".")[0] in {
        "flask", "werkzeug", "sqlalchemy", "alembic", "server", "pygame",
        "requests", "urllib3", "charset_normalizer", "idna", "cryptography",
    }
)
print(json.dumps(heavy))
"""


def test_player_loads_neither_server_nor_flask_nor_sqlalchemy(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    # pygame too is only imported when a window is opened; HTTP is the standard library's.
    assert json.loads(result.stdout) == []
    assert not list(tmp_path.iterdir())  # importing wrote nothing


def test_no_player_module_imports_the_server() -> None:
    for path in (ROOT / "player").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from server" not in text and "import server" not in text, path
