"""The files neft reads back (formats.py): a file of another format, cut, or lacking a key or holding one of
another type is one line naming the file and the key; tables are checked for their columns and numbers."""

import json

import pytest
from made_runs import checked_config

from neft.errors import CheckpointError
from neft.formats import CHECKED_CONFIG, RESULT_FORMAT, check, read_json, read_table


@pytest.mark.parametrize(
    "content,says",
    [
        ('{"format": "neft.mc/0"}', "r.json: format 'neft.mc/0', expected 'neft.mc/1'; pass the right file"),
        ("[1, 2]", "r.json: format 'list', expected 'neft.mc/1'"),
        ('{"format": "neft.mc/1", "resu', "r.json: unreadable (Unterminated string"),
        ('{"format": "neft.mc/1"}', "r.json: missing key status, so not a complete 'neft.mc/1' file; rerun its"),
    ],
)
def test_a_result_file_of_another_format_or_cut_is_one_line(tmp_path, content, says):
    (tmp_path / "r.json").write_text(content)
    with pytest.raises(CheckpointError) as error:
        read_json(tmp_path / "r.json", RESULT_FORMAT)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_the_checked_config_is_read_with_the_keys_the_analysis_reads(tmp_path):
    config = checked_config()
    assert check("config.json", config, CHECKED_CONFIG) is config  # no format tag: the workflow's config as is
    del config["ablations"]["seeds"]
    with pytest.raises(CheckpointError, match="config.json: missing key ablations.seeds, so not a complete"):
        check("config.json", config, CHECKED_CONFIG)
    config = {**checked_config(), "sigma_d": "0.3"}
    with pytest.raises(CheckpointError, match="config.json: sigma_d is str, expected a list"):
        check("config.json", json.loads(json.dumps(config)), CHECKED_CONFIG)


def test_a_table_is_checked_for_its_columns_and_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\nx,1\n")
    assert read_table(path, "test table", ["a", "b"], {"a"}, "make it again").b.tolist() == [1]
    with pytest.raises(CheckpointError, match=r"t.csv: not a test table \(missing c\); make it again"):
        read_table(path, "test table", ["a", "c"], {"a"}, "make it again")
    with pytest.raises(CheckpointError, match="t.csv: column a holds text where numbers belong; make it again"):
        read_table(path, "test table", ["a", "b"], set(), "make it again")
    with pytest.raises(CheckpointError, match=r"none.csv: unreadable test table \(\[Errno 2\]"):
        read_table(tmp_path / "none.csv", "test table", ["a"], set(), "make it again")
