"""Bad EPITOME data and settings: one line naming file, row and field; exit 2; nothing written."""

from __future__ import annotations

import pytest

from distill.cli import main
from distill.epitome.data import read_epitome

HEADER = "sp_id,rp_id,seeker_post,response_post,level,rationales\n"


def _folder(tmp_path, name="emotional-reactions-reddit.csv", text=HEADER + "s1,r1,I am sad,I am sorry,1,\n"):
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return folder


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sp_id,rp_id,seeker_post,level\ns1,r1,hi,1\n", "row 1 (header): missing column 'response_post'"),
        (HEADER + "s1,r1,I am sad,I am sorry,3,\n", "row 2, field 'level': '3' is not one of 0, 1, 2"),
        (HEADER + "s1,r1,I am sad,I am sorry,1,\ns2,r2,I lost my job,,0,\n", "row 3, field 'response_post': empty"),
        (HEADER + "s1,r1,I am sad,I am sorry,one,\n", "row 2, field 'level': 'one'"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
        (HEADER, "no data rows"),
    ],
)
def test_bad_rows_give_one_line_naming_file_row_and_field(tmp_path, capsys, text, expected):
    folder = _folder(tmp_path, text=text)
    out = tmp_path / "model"
    assert main(["scorers", "fit", "--data", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err and "emotional-reactions-reddit.csv" in err, err
    assert not out.exists()


def test_a_folder_without_epitome_files_is_named(tmp_path, capsys):
    folder = _folder(tmp_path, name="notes.csv")
    assert (
        main(
            [
                "scorers",
                "validate",
                "--data",
                str(folder),
                "--scorer",
                "epitome_lexical",
                "--json",
                str(tmp_path / "v.json"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert "none of emotional-reactions-reddit.csv" in err and "notes.csv" in err and len(err.splitlines()) == 1


def test_unknown_setting_and_bad_choices_are_one_line(tmp_path, capsys):
    folder = _folder(tmp_path)
    assert main(["scorers", "fit", "--data", str(folder), "--out", str(tmp_path / "m"), "epoch=3"]) == 2
    assert "epoch: unknown key" in capsys.readouterr().err
    assert main(["scorers", "validate", "--data", str(folder), "--json", str(tmp_path / "v.json")]) == 2
    assert "exactly one of --model DIR or --scorer NAME" in capsys.readouterr().err
    assert (
        main(["scorers", "validate", "--data", str(folder), "--scorer", "nope", "--json", str(tmp_path / "v.json")])
        == 2
    )
    assert "--scorer 'nope': unknown" in capsys.readouterr().err
    assert (
        main(
            ["scorers", "validate", "--data", str(folder), "--model", str(tmp_path), "--json", str(tmp_path / "v.json")]
        )
        == 2
    )
    assert "not an EPITOME classifier folder" in capsys.readouterr().err


def test_existing_output_folder_is_refused(tmp_path, capsys):
    folder = _folder(tmp_path)
    out = tmp_path / "model"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["scorers", "fit", "--data", str(folder), "--out", str(out)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err and (out / "keep.txt").read_text() == "mine"


def test_pairs_join_across_files_and_repeats_by_occurrence(tmp_path):
    rows_er = HEADER + "s1,r1,sad,sorry,1,\ns1,r1,sad,sorry,2,\ns2,r2,lost,oh no,0,\n"
    rows_ex = HEADER + "s2,r2,lost,oh no,2,why\ns1,r1,sad,sorry,0,\ns1,r1,sad,sorry,1,\n"
    _folder(tmp_path, text=rows_er)
    folder = _folder(tmp_path, name="explorations-reddit.csv", text=rows_ex)
    data = read_epitome(folder)
    assert data.mechanisms == ("emotional_reactions", "explorations") and len(data) == 3
    levels = [
        (p.sp_id, p.level("emotional_reactions"), p.level("explorations"), p.level("interpretations"))
        for p in data.pairs
    ]
    assert levels == [("s1", 1, 0, -1), ("s1", 2, 1, -1), ("s2", 0, 2, -1)]
