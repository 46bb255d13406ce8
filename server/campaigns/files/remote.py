"""`signage campaign check|plan|apply --server URL --token T`: the same command, answered by a
server. The file and the posters it names travel as multipart; the server runs the very
functions the local command runs (`server.campaigns.files.said`) and sends back what they
said, so both print the same lines."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import requests

from server.campaigns.files.load import load_campaign
from server.campaigns.files.said import Said
from server.errors import BadRequest, FieldError, KnownError, ServiceUnavailable

TIMEOUT_S = 120  # an apply normalises every new poster before it answers
USER_AGENT = "signage-cli"


class RemoteRefused(KnownError):
    """The server refused the request; its problem's detail and fields, as it said them."""


def poster_paths(path: Path) -> list[str]:
    """The poster paths FILE names (relative to its folder), when it parses; else none, and
    the server reports the file's problems."""
    spec, _ = load_campaign(path)
    if spec is None:
        return []
    seen: dict[str, None] = {}
    for items in spec.playlists.values():
        for item in items:
            if item.kind == "poster" and not item.source.startswith("sha256:"):
                seen.setdefault(item.source, None)
    return list(seen)


class Remote:
    def __init__(self, server: str, token: str) -> None:
        self.base = server.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT})

    def send(
        self,
        command: str,
        path: Path,
        shown: str,
        *,
        org: str | None,
        start_on: date | None,
        json: bool = False,
        publish: bool = False,
    ) -> Said:
        fields: dict[str, str] = {"shown": shown}
        if org:
            fields["org"] = org
        if start_on is not None:
            fields["start_on"] = start_on.isoformat()
        if json:
            fields["json"] = "true"
        if publish:
            fields["publish"] = "true"
        with ExitStack() as stack:
            try:
                files: list[tuple[str, tuple[str, BinaryIO]]] = [
                    ("file", (path.name, stack.enter_context(path.open("rb"))))
                ]
            except OSError as exc:
                raise BadRequest(f"cannot read {shown}: {exc.strerror or exc}") from None
            for poster in poster_paths(path):
                local = path.parent / poster
                if local.is_file():  # a missing one is reported by the server, with its line
                    files.append(("poster", (poster, stack.enter_context(local.open("rb")))))
            url = f"{self.base}/api/v1/campaign-files/{command}"
            try:
                answer = self.session.post(url, data=fields, files=files, timeout=TIMEOUT_S)
            except requests.RequestException as exc:
                raise ServiceUnavailable(f"cannot reach {self.base}: {exc}") from None
        return _said(answer)


    def step(
        self,
        step: str,
        ref: str,
        *,
        org: str | None = None,
        immediate: bool = False,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Run a workflow step (submit, approve, send-back, publish, archive) on the
        campaign named (in organisation `org`) or numbered REF; the campaign as the API
        answers it. Refusals say what the local command says."""
        campaign_id = int(ref) if ref.isdigit() else self._find(ref, org)
        url = f"{self.base}/api/v1/campaigns/{campaign_id}/{step}"
        params = {"immediate": "true"} if immediate else None
        body = {"comment": comment} if comment is not None else None
        answer = self._call("POST", url, params=params, json=body)
        found: dict[str, Any] = answer.json()
        return found

    def _find(self, name: str, org: str | None) -> int:
        """The id of the campaign called `name` (in `org`), as `export.find_campaign` finds
        it locally, among the campaigns the token reads."""
        named = [c for c in self._items("campaigns", name) if c.get("name") == name]
        if org is not None:
            org_ids = {o["id"] for o in self._items("organisations", org) if o.get("name") == org}
            named = [c for c in named if c.get("organisation_id") in org_ids]
        if not named:
            raise RemoteRefused(f"no campaign {name!r}" + (f" in {org!r}" if org else ""))
        if len(named) > 1:
            raise RemoteRefused(
                f"several campaigns are called {name!r}: name the organisation with --org"
            )
        return int(named[0]["id"])

    def _items(self, resource: str, name: str) -> list[dict[str, Any]]:
        answer = self._call(
            "GET", f"{self.base}/api/v1/{resource}", params={"name": name, "limit": 100}
        )
        items: list[dict[str, Any]] = answer.json().get("items", [])
        return items

    def _call(self, method: str, url: str, **kw: Any) -> requests.Response:
        try:
            answer = self.session.request(method, url, timeout=TIMEOUT_S, **kw)
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"cannot reach {self.base}: {exc}") from None
        if answer.status_code >= 300:
            # The server's problem as the local command would say it: its detail and fields.
            try:
                body: Any = answer.json()
            except ValueError:
                body = None
            detail = body.get("detail") if isinstance(body, dict) else None
            refused = RemoteRefused(
                detail or f"the server answered {answer.status_code}: {answer.reason}"
            )
            refused.status = answer.status_code
            _raise(refused, body)
        return answer


def _said(answer: requests.Response) -> Said:
    try:
        body: Any = answer.json()
    except ValueError:
        body = None
    if answer.status_code == 200 and isinstance(body, dict) and "out" in body:
        return Said(
            out=list(body["out"]),
            err=list(body.get("err", [])),
            exit=int(body.get("exit", 0)),
            problems=list(body.get("problems", [])),
            notes=list(body.get("notes", [])),
        )
    detail = body.get("detail") if isinstance(body, dict) else None
    refused = RemoteRefused(f"the server answered {answer.status_code}: {detail or answer.reason}")
    refused.status = answer.status_code
    return _raise(refused, body)


def _raise(refused: RemoteRefused, body: Any) -> Said:
    if isinstance(body, dict):
        refused.errors = [
            FieldError(str(e.get("field", "")), str(e.get("reason", "")))
            for e in body.get("errors", [])
            if isinstance(e, dict)
        ]
    raise refused
