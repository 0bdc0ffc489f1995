"""Run-folder files (``advshape._files``): JSON-lines reads that name a damaged line. (Atomic
writes and their modes under the umask: test_cli_robustness.py.)"""

from __future__ import annotations

import pytest

from advshape._files import read_jsonl, write_jsonl_atomic


def test_read_jsonl_round_trip_and_missing_file(tmp_path):
    path = tmp_path / "metrics.jsonl"
    assert read_jsonl(path) == []  # no file yet: no records
    records = [{"step": 1, "loss": 0.5}, {"step": 2, "kind": "eval"}]
    write_jsonl_atomic(path, records)
    assert read_jsonl(path) == records
    path.write_text(path.read_text() + "\n  \n")  # blank lines are not records
    assert read_jsonl(path) == records


def test_read_jsonl_names_the_damaged_line_and_the_fix(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": \n')
    with pytest.raises(ValueError, match=r"metrics.jsonl' line 2 is not valid JSON .*; delete it"):
        read_jsonl(path)
    with pytest.raises(ValueError, match="; choose another --out$"):
        read_jsonl(path, fix="choose another --out")
