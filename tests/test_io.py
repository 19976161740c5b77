"""Writing files (io.py): an output is written whole or not at all, outputs never overwrite inputs or each other,
and a second process is kept out of a folder another one holds."""

import os

import pytest

from neft.errors import NeftError, WriteError
from neft.io import check_paths, folder_lock, save_json, save_text


def test_a_file_is_written_whole_and_readable_by_the_group(tmp_path):
    out = tmp_path / "sub" / "r.json"
    save_json(out, {"a": float("nan"), "b": [1, 2]})
    save_text(tmp_path / "t.md", "x\n")
    assert out.read_text() == '{\n "a": NaN,\n "b": [\n  1,\n  2\n ]\n}\n' and (tmp_path / "t.md").read_text() == "x\n"
    assert out.stat().st_mode & 0o040  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["r.json", "sub", "t.md"]  # no temp file left


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    out = tmp_path / "r.txt"
    save_text(out, "old\n")
    with pytest.raises(AttributeError):
        save_text(out, None)  # fails while writing: None has no encode
    assert out.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["r.txt"]
    with pytest.raises(WriteError, match="it is a folder"):
        save_text(tmp_path, "x")


@pytest.mark.parametrize(
    "inputs,outputs,says",
    [
        ([("--runs", "runs.csv")], [("--out", "runs.csv")], "--out runs.csv would overwrite --runs runs.csv"),
        ([], [("--out", "t.md"), ("--out", "./t.md")], "--out ./t.md would overwrite --out t.md"),
        ([("--model", "run/model.pt")], [("--out", "run")], "--out run would replace the folder holding --model"),
        ([], [("--out", "")], "--out is empty; give a path"),
    ],
)
def test_an_output_never_overwrites_an_input_or_another_output(tmp_path, monkeypatch, inputs, outputs, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.pt").write_text("m")
    with pytest.raises(NeftError, match=says):
        check_paths(inputs, outputs)


def test_an_output_inside_an_input_folder_is_fine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_paths([("--data-dir", "data")], [("--out", "data/fetched.json")])


def test_a_held_folder_keeps_a_second_holder_out_and_is_left_as_found(tmp_path):
    folder = tmp_path / "runs" / "r"
    with folder_lock(folder, "neft train"):
        assert (folder / ".lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(NeftError, match=rf"{folder} is in use by another neft train \(pid {os.getpid()}\)"):
            with folder_lock(folder, "neft train"):
                pass
    assert not (tmp_path / "runs").exists()  # made for the lock and left empty: removed again
