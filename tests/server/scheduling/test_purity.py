"""The engine stays pure: it imports nothing of the project or the web stack, reads no clock."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import server.scheduling

ENGINE = Path(server.scheduling.__file__).parent


def test_importing_the_engine_pulls_in_nothing_else_of_the_project() -> None:
    probe = (
        "import json, sys; import server.scheduling; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'server', 'player', 'flask', 'sqlalchemy', 'werkzeug'})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ENGINE.parent.parent,
        timeout=60,
    )
    loaded = json.loads(result.stdout)
    assert "server.scheduling" in loaded
    assert [m for m in loaded if m != "server" and not m.startswith("server.scheduling")] == []


def test_the_engine_never_reads_the_wall_clock() -> None:
    clock = re.compile(r"\b(now|utcnow|today)\(|time\.(time|monotonic)\(")
    offenders = [
        f"{path.name}:{n}"
        for path in sorted(ENGINE.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if clock.search(line)
    ]
    assert offenders == []
