"""Reading import packages: JSONL lines, manifests, and hostile archives."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from lms.ingest.packages import (
    Limits,
    PackageError,
    entry_name,
    read_jsonl,
    read_manifest,
    unpacked,
)
from tests.encodings import to_cp1258


def write_jsonl(folder: Path, *lines: object) -> Path:
    path = folder / "import.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line,
                                                                           ensure_ascii=False)
                              for line in lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "ext-1", "collection": "khoa-hau-can", "access": "public",
        "metadata": {"title": [{"value": "Hậu cần quân đội", "lang": "vi"}],
                     "type": [{"value": "Text"}], "issued": [{"value": "2025-09-22"}]},
        "files": [{"path": "docs/a.txt"}]}


def test_a_good_line_is_read_whole(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("nội dung")
    [line] = read_jsonl(write_jsonl(tmp_path, GOOD))
    assert line.errors == []
    assert (line.external_id, line.collection, line.access) == ("ext-1", "khoa-hau-can",
                                                                {"level": "public"})
    assert line.metadata.values("title") == ["Hậu cần quân đội"]
    assert line.files == [(tmp_path / "docs" / "a.txt").resolve()]


@pytest.mark.parametrize("path, message", [
    ("/etc/passwd", "must be relative"),
    ("../outside.txt", "leaves the package"),
    ("docs/../../outside.txt", "leaves the package"),
    ("missing.txt", "not in the package"),
    ("docs\\a.txt", "forbidden characters"),
    ("C:/x.txt", "must be relative"),
    ("~/x.txt", "must be relative"),
    ("", "empty"),
])
def test_file_paths_must_stay_inside_the_package(tmp_path, path, message):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    (tmp_path.parent / "outside.txt").write_text("secret")
    [line] = read_jsonl(write_jsonl(tmp_path, {**GOOD, "files": [{"path": path}]}))
    assert any(message in e for e in line.errors), line.errors
    assert line.files == []


def test_a_symlinked_folder_leading_out_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    package = tmp_path / "package"
    package.mkdir()
    os.symlink(outside, package / "docs")
    [line] = read_jsonl(write_jsonl(package, {**GOOD, "files": [{"path": "docs/secret.txt"}]}))
    assert any("leads out" in e for e in line.errors)


def test_malformed_lines_are_reported_and_the_rest_read(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    lines = list(read_jsonl(write_jsonl(
        tmp_path, GOOD, "{not json", "[1, 2]", {**GOOD, "id": "ext-1"},
        {**GOOD, "id": "ext-2", "metadata": {"title": 5}},
        {**GOOD, "id": "ext-3", "owner": "admin"}, {**GOOD, "id": 7},
        {**GOOD, "id": "ext-4", "files": [{"name": "x"}]})))
    assert [bool(line.errors) for line in lines] == [False] + [True] * 7
    assert "not valid JSON" in lines[1].errors[0]
    assert "duplicate id 'ext-1' (first on line 1)" in lines[3].errors[0]
    assert "unknown keys: owner" in lines[5].errors[0]


def test_non_utf8_line_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "import.jsonl"
    path.write_bytes(b'{"metadata": {"title": [{"value": "H\xe2u"}]}}\n')
    [line] = read_jsonl(path)
    assert "not valid JSON" in line.errors[0]


def unpack(archive: Path, workdir: Path, limits: Limits | None = None) -> None:
    with unpacked(archive, workdir, limits or Limits()):
        pass


def make_zip(path: Path, entries: dict[str, bytes], **kwargs) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, **kwargs) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def test_a_zip_package_is_unpacked_privately_and_removed(tmp_path):
    archive = make_zip(tmp_path / "p.zip", {
        "manifest.csv": "id,title[vi],file\nr1,Tài liệu,a.txt||b/c.txt\n".encode(),
        "a.txt": b"a", "b/c.txt": b"c"})
    with unpacked(archive, tmp_path / "work") as folder:
        [line] = read_manifest(folder)
        assert line.errors == [] and len(line.files) == 2
        assert line.metadata.values("title") == ["Tài liệu"]
    assert list((tmp_path / "work").iterdir()) == []


@pytest.mark.parametrize("name", ["../../srv/app/evil.py", "/etc/cron.d/x", "a/../../x",
                                  "C:\\windows\\x", "a\\..\\..\\x"])
def test_zip_slip_is_refused_naming_the_entry(tmp_path, name):
    archive = make_zip(tmp_path / "p.zip", {"manifest.csv": b"title\nx\n", name: b"evil"})
    with pytest.raises(PackageError, match=r"evil|x"):
        unpack(archive, tmp_path / "work")
    assert list((tmp_path / "work").iterdir()) == []
    assert not (tmp_path / "srv").exists()


def test_symlink_entries_are_refused(tmp_path):
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(PackageError, match="symbolic link"):
        unpack(archive, tmp_path / "work")


def test_too_many_entries(tmp_path):
    archive = make_zip(tmp_path / "p.zip", {f"f{i}.txt": b"" for i in range(60)})
    with pytest.raises(PackageError, match="60 entries"):
        unpack(archive, tmp_path / "work", Limits(max_entries=50))


def test_compression_bomb_is_refused_before_unpacking(tmp_path):
    archive = make_zip(tmp_path / "p.zip", {"bomb.txt": b"\0" * (20 * 1024 * 1024)})
    assert archive.stat().st_size < 100_000
    with pytest.raises(PackageError, match="compression bomb"):
        unpack(archive, tmp_path / "work")
    with pytest.raises(PackageError, match="allowed size"):
        unpack(archive, tmp_path / "work", Limits(max_total_bytes=1024 * 1024,
                                                  max_ratio=10**9))
    assert list((tmp_path / "work").iterdir()) == []


def test_an_entry_lying_about_its_size_is_caught_while_unpacking(tmp_path):
    archive = make_zip(tmp_path / "p.zip", {"a.txt": b"A" * 5000})
    data = bytearray(archive.read_bytes())
    # Shrink the declared uncompressed size (local header and central directory) to 10.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset: at + offset + 4] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(PackageError):
        unpack(archive, tmp_path / "work")
    assert list((tmp_path / "work").iterdir()) == []


def test_duplicate_entries_are_refused(tmp_path):
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("a.txt", b"1")
        zf.writestr("a.txt", b"2")
    with pytest.raises(PackageError, match="twice"):
        unpack(archive, tmp_path / "work")




@pytest.mark.parametrize("encoding", ["cp1258", "utf-8"])
def test_entry_names_without_the_utf8_flag_are_decoded(tmp_path, monkeypatch, encoding):
    name = "Giáo trình hậu cần.txt"
    raw = to_cp1258(name) if encoding == "cp1258" else name.encode(encoding)
    # zipfile marks non-ASCII names as UTF-8; write the raw bytes the way old tools do.
    monkeypatch.setattr(zipfile.ZipInfo, "_encodeFilenameFlags",
                        lambda self: (raw, self.flag_bits & ~0x800))
    archive = make_zip(tmp_path / "p.zip", {name: b"x"})
    monkeypatch.undo()
    with zipfile.ZipFile(archive) as zf:
        assert entry_name(zf.infolist()[0]) == name


def test_not_a_zip_is_a_clear_error(tmp_path):
    path = tmp_path / "p.zip"
    path.write_bytes(b"MZ not a zip")
    with pytest.raises(PackageError, match="not a readable ZIP"):
        unpack(path, tmp_path / "work")


def test_manifest_problems(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "manifest.csv").write_text(
        "id,title[vi],file,access\nr1,A,/etc/passwd,public\nr1,B,a.txt,\nr2,C,../x,\n",
        encoding="utf-8")
    lines = list(read_manifest(tmp_path))
    assert "must be relative" in lines[0].errors[0]
    assert "duplicate id 'r1'" in lines[1].errors[0]
    assert "leaves the package" in lines[2].errors[0]
    assert lines[0].access == {"level": "public"}
    (tmp_path / "manifest.csv").write_text("title[vi],bogus\nA,x\n", encoding="utf-8")
    with pytest.raises(PackageError, match="bogus"):
        list(read_manifest(tmp_path))
