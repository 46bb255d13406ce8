"""The README's run command: `signage demo` serves the demo on SQLite and says how to log in,
and the credentials it prints work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration
SIGNAGE = Path(sys.executable).parent / "signage"


def test_demo_serves_and_prints_working_credentials(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "demo.out"
    env = {
        "PATH": f"{SIGNAGE.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "SIGNAGE_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    with out.open("wb") as sink:
        demo = subprocess.Popen(
            [str(SIGNAGE), "demo", "--port", str(port), "--no-player"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert demo.poll() is None, out.read_text()
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.2)
        printed = out.read_text()
        assert f"demo at {base}" in printed
        found = re.search(r"log in as (\S+) with password (\S+)", printed)
        assert found, printed
        assert (tmp_path / "instance" / "signage.db").is_file()

        login = requests.post(
            f"{base}/api/v1/session",
            json={"email": found.group(1), "password": found.group(2)},
            timeout=10,
        )
        assert login.status_code == 201, login.text
        campaigns = requests.get(f"{base}/api/v1/campaigns", cookies=login.cookies, timeout=10)
        assert campaigns.status_code == 200
        names = [c["name"] for c in campaigns.json()["items"]]
        assert names == ["Cybersecurity Publicity Week 2022 (Fujian)"]
        assert campaigns.json()["items"][0]["status"] == "published"
    finally:
        demo.terminate()
        demo.wait(timeout=20)
