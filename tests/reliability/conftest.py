"""The reliability matrix (docs/reliability.md): real faults on real processes.

The integration fixtures (servers, players, their content) are shared with
tests/integration/; the helpers that inject faults live next to the tests that use them.
"""

from __future__ import annotations

from tests.integration.conftest import fresh_pg_database, start_server
from tests.integration.player.conftest import content_for, start_player

__all__ = ["content_for", "fresh_pg_database", "start_player", "start_server"]
