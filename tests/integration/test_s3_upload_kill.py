"""A server node with its media in a bucket, SIGKILLed while an upload is coming in, leaves
no row pointing at a missing object; the rows it did write all have their objects.

(The kill lands while the request body is arriving. A kill in the middle of the transfer
to the bucket is tested on the store itself: tests/server/media/test_s3.py.)"""

from __future__ import annotations

import select as io_select
import socket

import pytest
import requests
from sqlalchemy import select

from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.content import noise_png
from tests.s3 import S3Server

pytestmark = pytest.mark.integration


def multipart(data: bytes, boundary: str) -> bytes:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode()


def rows_and_objects(server: ServerProcess) -> tuple[set[str], set[str]]:
    from server.assets.models import Asset, Variant

    with server.session() as session:
        rows = set(session.scalars(select(Asset.sha256)))
        rows |= set(session.scalars(select(Variant.sha256)))
    return rows, set(server.store().iter_hashes())


def test_node_killed_mid_upload_leaves_no_row_without_its_object(
    start_server: StartServer, s3_server: S3Server
) -> None:
    server = start_server(settings={"media_url": s3_server.new_bucket()})
    admin = server.seed_admin()
    # One upload that completes: its asset and thumbnail rows, and their objects.
    done = requests.post(
        server.url("/api/v1/assets"),
        files={"file": ("small.png", noise_png(1, (64, 48)), "image/png")},
        headers=admin.headers,
        timeout=30,
    )
    assert done.status_code == 201, done.text
    rows, objects = rows_and_objects(server)
    assert len(rows) >= 2 and rows <= objects

    # A second upload: half its body is sent, then the node is killed.
    body = multipart(noise_png(2, (640, 480)), "signage-boundary")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(
            (
                "POST /api/v1/assets HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{server.port}\r\n"
                f"Authorization: Bearer {admin.token}\r\n"
                "Content-Type: multipart/form-data; boundary=signage-boundary\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body[: len(body) // 2]
        )
        # The node has the headers and half the body, and has not answered: it is waiting
        # for the rest (Werkzeug parses the form before the upload reaches the store).
        assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
        ready, _, _ = io_select.select([conn], [], [], 0)
        assert not ready
        server.kill()

    after_rows, after_objects = rows_and_objects(server)
    assert after_rows == rows and after_rows <= after_objects
    assert after_objects == objects  # nothing half-sent became an object
    # The node comes back and takes the same upload whole.
    server.start()
    again = requests.post(
        server.url("/api/v1/assets"),
        files={"file": ("big.png", noise_png(2, (640, 480)), "image/png")},
        headers=admin.headers,
        timeout=60,
    )
    assert again.status_code == 201, again.text
    final_rows, final_objects = rows_and_objects(server)
    assert final_rows > rows and final_rows <= final_objects
