"""A training's inputs: shown arguments, copied files, pickled arguments."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

from deepaas_lite import UploadedFile
from deepaas_lite.training import inputs


def test_shown_arguments_describe_files() -> None:
    upload = UploadedFile("data", "/tmp/x", "text/csv", "train.csv")

    shown = inputs.shown({"data": upload, "many": [upload], "epochs": 3, "ids": [1, 2]})

    described = {"original_filename": "train.csv", "content_type": "text/csv"}
    assert shown == {"data": described, "many": [described], "epochs": 3, "ids": [1, 2]}


def test_keep_files_copies_under_a_safe_name(tmp_path: Path) -> None:
    source = tmp_path / "tmp123"
    source.write_bytes(b"content")
    upload = UploadedFile("data", str(source), "text/csv", "../../etc/pass wd")

    kept = inputs.keep_files({"data": upload, "epochs": 3}, tmp_path / "kept")

    copy = kept["data"]
    assert isinstance(copy, UploadedFile)
    assert Path(copy.filename).parent == tmp_path / "kept"
    assert Path(copy.filename).name == "0-pass_wd"
    assert Path(copy.filename).read_bytes() == b"content"
    assert copy._replace(filename=upload.filename) == upload
    assert kept["epochs"] == 3


def test_files_within_lists_of_arguments_are_copied_and_shown(tmp_path: Path) -> None:
    """An inference job's arguments hold its calls: a list of the plugin's arguments."""
    source = tmp_path / "tmp123"
    source.write_bytes(b"content")
    upload = UploadedFile("image", str(source), "image/png", "a.png")
    args = {"id": "r", "calls": [{"image": upload, "n": 1}, {"image": upload, "n": [2, 3]}]}

    kept = inputs.keep_files(args, tmp_path / "kept")

    copies = [call["image"] for call in kept["calls"]]
    assert [Path(copy.filename).name for copy in copies] == ["0-a.png", "1-a.png"]
    assert all(Path(copy.filename).read_bytes() == b"content" for copy in copies)
    described = {"original_filename": "a.png", "content_type": "image/png"}
    assert inputs.shown(args) == {
        "id": "r",
        "calls": [{"image": described, "n": 1}, {"image": described, "n": [2, 3]}],
    }


def test_pack_keeps_deserialised_values_and_strs_the_unpicklable() -> None:
    when = datetime.date(2026, 2, 4)
    lock = threading.Lock()

    unpacked = inputs.unpack(inputs.pack({"when": when, "lock": lock}))

    assert unpacked["when"] == when
    assert unpacked["lock"] == str(lock)


def test_a_name_too_long_for_the_disk_is_only_metadata(tmp_path: Path) -> None:
    source = tmp_path / "tmp123"
    source.write_bytes(b"content")
    original = "a" * 296 + ".csv"  # 300 bytes: more than a file name may have
    upload = UploadedFile("data", str(source), "text/csv", original)

    kept = inputs.keep_files({"data": upload}, tmp_path / "kept")

    copy = Path(kept["data"].filename)
    assert copy.read_bytes() == b"content"
    assert len(copy.name.encode()) <= 100
    assert copy.name.startswith("0-") and copy.name.endswith(".csv")
    assert kept["data"].original_filename == original
    assert inputs.shown({"data": upload})["data"]["original_filename"] == original
