"""Issue 12, finding 12: deploy/nginx.conf passes the same headers on every location.

nginx inherits `proxy_set_header` from the enclosing block only when a block sets none of its
own, so a location that sets one (the media block sets Range) must repeat all of them."""

from __future__ import annotations

import re
from pathlib import Path

CONF = Path(__file__).resolve().parents[3] / "deploy" / "nginx.conf"
WANTED = {"Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Request-Start", "Connection"}


def _blocks(text: str) -> list[tuple[str, str]]:
    """(header, own directives) of every block, nested blocks cut out of their parent."""
    text = re.sub(r"#[^\n]*", "", text)
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, list[str]]] = [("main", [])]
    head = ""
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if quoted or ch == '"':
            head += ch
        elif ch == "{":
            stack.append((head.strip().split(";")[-1].strip(), []))
            head = ""
        elif ch == "}":
            name, body = stack.pop()
            out.append((name, "".join(body) + head))
            head = ""
        else:
            head += ch
            if ch == ";":
                stack[-1][1].append(head)
                head = ""
    return out


def _set_headers(body: str) -> dict[str, str]:
    return dict(re.findall(r"proxy_set_header\s+(\S+)\s+([^;]+);", body))


def test_finding_12_every_proxied_location_sends_host_forwarded_and_request_start() -> None:
    blocks = _blocks(CONF.read_text())
    server = next(body for name, body in blocks if name.startswith("server") and "listen" in body)
    inherited = _set_headers(server)
    assert WANTED <= set(inherited), inherited
    locations = [(name, body) for name, body in blocks if name.startswith("location")]
    assert any(name == "location /media/" for name, _ in locations)
    for name, body in locations:
        own = _set_headers(body)
        effective = own if own else inherited  # nginx: any own header means none inherited
        missing = {h for h in inherited if h not in effective}
        assert not missing, f"{name} drops {sorted(missing)}"
        for header in inherited:
            assert effective[header] == inherited[header], (name, header)
