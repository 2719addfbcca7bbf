"""scripts/carry_data.py: an archive split into parts, joined back bit for bit, a damaged or missing part refused."""

import importlib.util
import io
import random
import tarfile
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("carry_data", Path(__file__).parent.parent / "scripts" / "carry_data.py")
carry_data = importlib.util.module_from_spec(spec)
spec.loader.exec_module(carry_data)


@pytest.fixture
def archive(tmp_path):
    """A small real .tar.gz of random (incompressible) files: 2.5 MB, three parts of 1 MB."""
    path = tmp_path / "data.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for i in range(5):
            payload = random.Random(i).randbytes(500_000)
            info = tarfile.TarInfo(f"class{i}/img{i}.bin")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def test_split_then_join_rebuilds_the_archive(archive, tmp_path):
    manifest = carry_data.split(archive, tmp_path / "parts", part_mb=1)
    parts = sorted((tmp_path / "parts").glob("data.tar.gz.part*"))
    assert len(parts) == 3 and all(p.stat().st_size <= 10**6 for p in parts)
    assert carry_data.main(["join", str(manifest), str(tmp_path / "out" / "data.tar.gz")]) == 0
    assert (tmp_path / "out" / "data.tar.gz").read_bytes() == archive.read_bytes()
    with tarfile.open(tmp_path / "out" / "data.tar.gz") as tar:
        assert len(tar.getnames()) == 5


def test_a_corrupted_or_missing_part_is_refused_in_one_line(archive, tmp_path, capsys):
    manifest = carry_data.split(archive, tmp_path / "parts", part_mb=1)
    part = tmp_path / "parts" / "data.tar.gz.part2"
    raw = bytearray(part.read_bytes())
    raw[1000] ^= 1
    part.write_bytes(bytes(raw))
    out = tmp_path / "out.tar.gz"
    assert carry_data.main(["join", str(manifest), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data.tar.gz.part2" in err and "sha256" in err
    assert not out.exists() and not list(tmp_path.glob(".out.tar.gz.tmp-*"))
    part.unlink()
    assert carry_data.main(["join", str(manifest), str(out)]) == 2
    assert "1 of 3 parts missing" in capsys.readouterr().err
