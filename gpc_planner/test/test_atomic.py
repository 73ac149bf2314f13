"""Atomic writes: whole files or none, with the permissions a plain open() would give."""

from __future__ import annotations

import os
import stat

import pytest

from gpc_planner import atomic
from gpc_planner.atomic import write_atomic, write_json_atomic


def test_write_replaces_the_file_whole_with_the_usual_mode(tmp_path):
    path = tmp_path / "sub" / "result.json"
    previous = os.umask(0o027)
    try:
        write_json_atomic(path, {"a": 1})
    finally:
        os.umask(previous)
    assert path.read_text() == '{\n  "a": 1\n}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # 0666 under umask 027, not 0600
    write_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]  # no temporaries


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "result.json"
    write_atomic(path, b"old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
