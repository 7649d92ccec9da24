"""Logs rotate in the user's log folder, so weeks of running never fill the disk."""

from __future__ import annotations

import logging
from pathlib import Path

from installation.core import logs
from installation.core.paths import UserDirs


def test_logs_go_to_a_rotating_file_in_the_user_folder(myco_home: Path, monkeypatch: object) -> None:
    monkeypatch.setattr(logs, "LOG_BYTES", 2000)  # type: ignore[attr-defined]
    with logs.configured_logging() as handler:
        assert handler is not None
        for number in range(400):
            logging.getLogger("myco.test").info("line %d of a long night", number)
    assert handler not in logging.getLogger().handlers and handler.stream is None  # type: ignore[attr-defined]
    files = sorted(p.name for p in UserDirs.default().logs.iterdir())
    assert files == ["myco.log", "myco.log.1", "myco.log.2", "myco.log.3", "myco.log.4"]
    assert "line 399 of a long night" in (UserDirs.default().logs / "myco.log").read_text()
    assert sum(p.stat().st_size for p in UserDirs.default().logs.iterdir()) < 6 * 2000
