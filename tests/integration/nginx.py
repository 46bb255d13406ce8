"""A real nginx in front of server nodes, configured from deploy/nginx.conf.

The deploy example is what is tested: its upstream line becomes one line per node (with the
example's parameters, or `down` for a drained node), its TLS listener a loopback port, its
cache path a folder of the test's own; everything else is used as written, and a change
to the example that these substitutions no longer fit fails loudly. nginx runs as its own
unprivileged process (as `nobody` when the tests run as root) with its own prefix.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.integration.conftest import free_port
from tests.integration.player.players import wait_for

REPO = Path(__file__).resolve().parents[2]
DEPLOY_CONF = REPO / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
_UPSTREAM = re.compile(r"^(\s*)server 127\.0\.0\.1:8000((?: [^;]*)?);$", re.M)
_LISTEN = re.compile(r"^(\s*)listen 443 ssl http2;$", re.M)
_TLS = re.compile(r"^\s*ssl_certificate(?:_key)? .*;\n", re.M)
_CACHE = re.compile(r"proxy_cache_path /var/cache/nginx/signage ")
_FIRST_LOCATION = re.compile(r"^(\s*)location /media/ \{$", re.M)
# One line per request: when, what, status, which node answered, and whose device token.
LOG_FORMAT = "$msec\\t$request_method\\t$uri\\t$status\\t$upstream_addr\\t$http_authorization"


def available() -> bool:
    return Path(NGINX).is_file()


def _sub_once(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    new, count = pattern.subn(replacement, text)
    if count != 1:
        raise AssertionError(f"{DEPLOY_CONF}: expected one match of {pattern.pattern!r}")
    return new


def site_config(nodes: Iterable[tuple[int, bool]], port: int, prefix: Path, generation: int) -> str:
    """deploy/nginx.conf for `nodes` (port, in rotation) listening on `port`."""
    text = DEPLOY_CONF.read_text(encoding="utf-8")

    def upstream(match: re.Match[str]) -> str:
        indent, params = match[1], match[2]
        return "\n".join(
            f"{indent}server 127.0.0.1:{node}{params}{'' if up else ' down'};" for node, up in nodes
        )

    new, count = _UPSTREAM.subn(upstream, text)
    if count != 1:
        raise AssertionError(f"{DEPLOY_CONF}: expected one upstream line for 127.0.0.1:8000")
    text = new
    text = _sub_once(_LISTEN, rf"\1listen 127.0.0.1:{port};", text)
    text = _TLS.sub("", text)
    text = _sub_once(_CACHE, f"proxy_cache_path {prefix / 'cache'} ", text)
    # Lets the test tell when a reload has taken effect.
    probe = rf'\1location = /nginx-generation {{ return 200 "{generation}"; }}' + "\n\\g<0>"
    return _sub_once(_FIRST_LOCATION, probe, text)


@dataclass
class Nginx:
    """One nginx master process and its prefix folder."""

    nodes: dict[int, bool]  # node port -> in rotation
    prefix: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="signage-nginx-")))
    port: int = field(default_factory=free_port)
    generation: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def _write(self) -> None:
        self.generation += 1
        site = site_config(self.nodes.items(), self.port, self.prefix, self.generation)
        temps = "\n".join(
            f"    {kind}_temp_path {self.prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = f"""daemon off;
worker_processes 1;
pid {self.prefix / "nginx.pid"};
error_log {self.prefix / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    log_format nodes "{LOG_FORMAT}";
    access_log {self.access_log} nodes;
{temps}
{site}
}}
"""
        (self.prefix / "nginx.conf").write_text(conf, encoding="utf-8")
        self._own()

    def _own(self) -> None:
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for path in [self.prefix, *self.prefix.rglob("*")]:
                os.chown(path, nobody.pw_uid, nobody.pw_gid)

    def start(self) -> Nginx:
        self._write()
        self.access_log.touch()
        self._own()
        args = [NGINX, "-p", str(self.prefix), "-e", str(self.prefix / "error.log")]
        args += ["-c", str(self.prefix / "nginx.conf")]
        subprocess.run([*args, "-t"], check=True, capture_output=True, **self._as_user())
        self.process = subprocess.Popen(args, stderr=subprocess.DEVNULL, **self._as_user())
        self._await_generation()
        return self

    def _as_user(self) -> dict[str, object]:
        if os.geteuid() == 0:
            return {"user": "nobody", "group": pwd.getpwnam("nobody").pw_gid}
        return {}

    def _await_generation(self) -> None:
        def answered() -> bool:
            assert self.process is not None and self.process.poll() is None, self.errors()
            try:
                r = requests.get(self.base_url + "/nginx-generation", timeout=2)
            except (requests.ConnectionError, requests.Timeout):
                return False
            return r.text == str(self.generation)

        wait_for(answered, f"nginx configuration {self.generation}", 20, self.errors)

    def set_nodes(self, nodes: dict[int, bool]) -> None:
        """Put nodes in or out of rotation (a graceful reload, as an operator would)."""
        assert self.process is not None
        self.nodes = dict(nodes)
        self._write()
        self.process.send_signal(signal.SIGHUP)
        self._await_generation()

    def errors(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def log(self) -> list[tuple[float, str, str, int, str, str]]:
        """(time, method, uri, status, upstream address(es), authorization) per request."""
        rows = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) == 6 and parts[3].isdigit():
                rows.append(
                    (float(parts[0]), parts[1], parts[2], int(parts[3]), parts[4], parts[5])
                )
        return rows

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful shutdown
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.prefix, ignore_errors=True)
