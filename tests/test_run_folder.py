"""The run-folder protocol shared by ``advshape train`` and ``advshape simulate``: every row of
its decision table, the files it writes and removes. (Each testbed's use of it is tested
end to end in test_lm_train.py, test_bandit_run.py and test_cli_robustness.py.)"""

from __future__ import annotations

import json

import pytest

from advshape._run_folder import RunFolder, differences

SETTINGS = {"lr": 0.1, "spec": "grpo"}


def _check(folder: RunFolder, settings=SETTINGS, *, work: bool, resume: bool) -> bool:
    return folder.check(
        settings,
        saved_settings=lambda config: config["settings"],
        has_work=lambda: work,
        resume=resume,
        normalise={"spec": str.strip},
    )


def _made(tmp_path, settings=SETTINGS, failed: bool = False) -> RunFolder:
    folder = RunFolder(tmp_path / "run")
    folder.write_config({"settings": settings})
    if failed:
        folder.mark_failed("diverged at step 3")
    return folder


def test_a_new_or_empty_folder_starts(tmp_path):
    folder = RunFolder(tmp_path / "run")
    assert _check(folder, work=True, resume=True) is False
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".config.json.abc.tmp").write_text("{")  # a temporary left behind
    assert _check(folder, work=True, resume=False) is False


def test_a_folder_with_files_but_no_run_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"--out '.*run' holds files but no run \(config.json"):
        _check(RunFolder(tmp_path / "run"), work=False, resume=True)
    with pytest.raises(ValueError, match="holds files but no study"):
        _check(RunFolder(tmp_path / "run", what="study"), work=False, resume=True)


def test_a_folder_without_finished_work_starts_afresh(tmp_path):
    folder = _made(tmp_path, {"lr": 9.0})
    assert _check(folder, work=False, resume=True) is False
    folder.config_path.write_text("{")  # not even read: nothing in it is kept
    assert _check(folder, work=False, resume=False) is False


def test_finished_work_with_the_same_settings_continues_when_resuming(tmp_path):
    folder = _made(tmp_path, {"lr": 0.1, "spec": " grpo "})  # the same after normalising
    assert _check(folder, work=True, resume=True) is True
    with pytest.raises(ValueError, match="already holds a run; pass --resume to continue it"):
        _check(folder, work=True, resume=False)


def test_finished_work_with_other_settings_is_refused_naming_them(tmp_path):
    folder = _made(tmp_path, {"lr": 0.2, "spec": "grpo", "old": 1})
    with pytest.raises(ValueError) as err:
        _check(folder, work=True, resume=True)
    message = str(err.value)
    assert "holds a run with another configuration: options ['lr', 'old'] differ" in message
    assert "rerun with the same options to continue it, or choose another --out" in message


def test_a_failed_run_is_replaced_by_a_corrected_rerun(tmp_path):
    folder = _made(tmp_path, {"lr": 0.2, "spec": "grpo"}, failed=True)
    assert _check(folder, work=True, resume=True) is False  # other settings: replaced
    assert _check(folder, work=True, resume=False) is False
    same = _made(tmp_path / "b", failed=True)
    assert _check(same, work=True, resume=True) is True  # same settings: its work is kept
    assert _check(same, work=True, resume=False) is False  # not resuming: replaced


def test_a_damaged_or_foreign_config_with_work(tmp_path):
    folder = _made(tmp_path)
    folder.config_path.write_text("{")
    with pytest.raises(ValueError, match=r"config.json' is not valid JSON .*choose another --out"):
        _check(folder, work=True, resume=True)
    folder.config_path.write_text(json.dumps({"other": 1}))  # settings unreadable: all differ
    with pytest.raises(ValueError, match=r"options \['lr', 'spec'\] differ"):
        _check(folder, work=True, resume=True)


def test_files_of_the_protocol(tmp_path):
    folder = _made(tmp_path, failed=True)
    assert json.loads(folder.failed_path.read_text()) == {"error": "diverged at step 3"}
    assert json.loads(folder.config_path.read_text()) == {"settings": SETTINGS}
    (folder.path / "metrics.jsonl").write_text("{}\n")
    (folder.path / "runs").mkdir()
    (folder.path / "runs" / "00-grpo-seed0.json").write_text("[]")
    (folder.path / "model").mkdir()
    folder.start_afresh("metrics.jsonl", "runs", "absent.pt")
    assert sorted(p.name for p in folder.path.iterdir()) == ["config.json", "model"]
    folder.mark_failed("again")
    folder.clear_failed()
    folder.clear_failed()  # nothing to clear: fine
    assert not folder.failed_path.exists()


def test_differences():
    assert differences({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}) == []
    assert differences({"a": 1, "c": 3}, {"a": 2, "b": 2}) == ["a", "b", "c"]
    spelled = {"spec": lambda s: s.replace(" ", "")}
    assert differences({"spec": "a: b"}, {"spec": "a:b"}, spelled) == []

    def unreadable(value):
        raise ValueError(value)

    assert differences({"spec": "x"}, {"spec": "x"}, {"spec": unreadable}) == ["spec"]
