"""Fault injection: nothing goes silently wrong, and a mistake a user can fix gets one line.

Each test breaks something on purpose (kill -9 in the middle of a checkpoint write, a flipped byte
in a cache or a checkpoint, a cut file, a corrupt result.json, bad arguments, paths that cannot be
written, a full disk, awkward images) and checks that it is caught, named, and repaired where it
can be. All on tiny data, no notebook kernel: a few seconds in all.
"""

import errno
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_engine import SPEC, Interrupt, _strip_time, build, tiny_data

import alexnet_repro.__main__ as cli
from alexnet_repro import engine
from alexnet_repro.data import cifar10, imagefolder
from alexnet_repro.data.errors import DataError
from alexnet_repro.engine import Normalizer, TrainSpec, train
from alexnet_repro.paths import REPO_ROOT
from alexnet_repro.results import atomic_write_json

TESTS = Path(__file__).resolve().parent


def flip_byte(path, at=None):
    data = bytearray(Path(path).read_bytes())
    data[len(data) // 2 if at is None else at] ^= 0xFF
    Path(path).write_bytes(bytes(data))


def one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


# ------------------------------------------------------------------------------------- checkpoints

KILLED_WRITER = """
import os, sys, time
sys.path[:0] = [{repo!r}, {tests!r}]
from test_engine import SPEC, build, tiny_data
from alexnet_repro.engine import Normalizer, train
real, calls = os.fsync, []
def fsync(fd):  # the second checkpoint: say so, then hang mid-write until killed
    calls.append(fd)
    if len(calls) == 2:
        open({marker!r}, "w").close()
        time.sleep(600)
    return real(fd)
os.fsync = fsync
data = tiny_data()
train(build(), data, Normalizer(data.train_x), SPEC, checkpoint={ckpt!r})
"""


def test_kill_9_mid_checkpoint_resumes_equal_and_leaves_no_temp_file(tmp_path):
    data = tiny_data()
    norm = Normalizer(data.train_x)
    full = train(build(), data, norm, SPEC)
    ckpt, marker = tmp_path / "run" / "checkpoint.pt", tmp_path / "writing"
    ckpt.parent.mkdir()
    script = KILLED_WRITER.format(repo=str(REPO_ROOT), tests=str(TESTS), marker=str(marker), ckpt=str(ckpt))
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "ALEXNET_REPRO_QUIET": "1"})
    try:
        deadline = time.time() + 120
        while not marker.exists():
            assert proc.poll() is None and time.time() < deadline, "the writer died or never got to epoch 2"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert any(p.name.startswith(".") for p in ckpt.parent.iterdir())  # killed with its temp file half written
    resumed = train(build(seed=123), data, norm, SPEC, checkpoint=ckpt)
    assert _strip_time(resumed.history) == _strip_time(full.history)
    assert sorted(p.name for p in ckpt.parent.iterdir()) == ["checkpoint.pt"]  # temp and previous gone


@pytest.mark.parametrize("damage", ["flip", "truncate", "both"])
def test_damaged_checkpoint_is_named_set_aside_and_the_run_resumes_from_the_last_good_state(tmp_path, capfd, damage):
    data = tiny_data()
    norm = Normalizer(data.train_x)
    full = train(build(), data, norm, SPEC)
    ckpt = tmp_path / "checkpoint.pt"

    def killed_before_the_last_checkpoint(history):
        if len(history) == 3:
            raise Interrupt
        return False

    with pytest.raises(Interrupt):  # leaves epoch 2's checkpoint, and epoch 1's as the previous
        train(build(), data, norm, SPEC, checkpoint=ckpt, stop_at=killed_before_the_last_checkpoint)
    previous = tmp_path / "checkpoint.pt.previous"
    if damage == "truncate":
        os.truncate(ckpt, ckpt.stat().st_size // 2)
    for victim in [ckpt] if damage == "flip" else [previous] if damage == "both" else []:
        flip_byte(victim, at=victim.stat().st_size - 5000)  # bytes torch.load itself never checks
    if damage == "both":
        flip_byte(ckpt)
    capfd.readouterr()
    # With both damaged the run starts again from scratch: from the model the caller built (seed 0).
    resumed = train(build(seed=0 if damage == "both" else 123), data, norm, SPEC, checkpoint=ckpt)
    assert _strip_time(resumed.history) == _strip_time(full.history)
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == (2 if damage == "both" else 1) and all(str(ckpt) in line for line in lines)
    assert lines[0].startswith("warning: checkpoint") and "previous epoch" in lines[0]
    assert len(list(tmp_path.glob("checkpoint.pt*.corrupt-*"))) == len(lines)


def test_corrupt_checkpoint_of_a_finished_run_is_one_line(tmp_path):
    from alexnet_repro.runs import cached_train, final_model, run_key

    data = tiny_data()
    cached_train(tmp_path, {"r": 1}, build, data, Normalizer(data.train_x), SPEC)
    flip_byte(tmp_path / run_key({"r": 1}) / "checkpoint.pt")
    with pytest.raises(ValueError, match="does not match its recorded sha256") as e:
        final_model(tmp_path, {"r": 1}, build)
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------------------------------- caches


def make_tree(root, classes=("a", "b"), n=3, size=16):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for cls in classes:
            (root / split / cls).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
                    root / split / cls / f"{i}.png"
                )


@pytest.mark.parametrize("victim", ["train.u8", "mean_image.npy", "meta.json"])
def test_flipped_byte_in_the_image_cache_is_reported_and_rebuilt(tmp_path, capfd, victim):
    make_tree(tmp_path / "src")
    kw = dict(size=16, cache=tmp_path / "cache", workers=0)
    clean = imagefolder.load_imagefolder(tmp_path / "src", **kw)
    images, mean = np.array(clean.train_x), np.array(clean.mean_image)
    target = tmp_path / "cache" / "src-16" / victim
    flip_byte(target, at=target.stat().st_size - 3)  # the last pixels / the mean's last value / a brace
    capfd.readouterr()
    again = imagefolder.load_imagefolder(tmp_path / "src", **kw)
    assert np.array_equal(again.train_x, images) and np.array_equal(again.mean_image, mean)
    assert again.checksum == clean.checksum
    line = one_line(capfd.readouterr().err)
    assert line.startswith("warning: cache") and "rebuilding" in line and victim in line


def cifar_folder(root, n=1):
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for cls in cifar10.CLASSES:
            (root / split / cls).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / split / cls / f"{i}.png")


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_cifar_cache_is_reported_and_rebuilt(tmp_path, capfd, damage):
    cifar_folder(tmp_path / "src")
    clean = cifar10.load_cifar10(tmp_path / "src", cache=tmp_path / "cache")
    (npz,) = (tmp_path / "cache").glob("*.npz")
    flip_byte(npz, at=1000) if damage == "flip" else os.truncate(npz, npz.stat().st_size // 2)
    capfd.readouterr()
    again = cifar10.load_cifar10(tmp_path / "src", cache=tmp_path / "cache")
    assert torch.equal(again.train_x, clean.train_x) and again.checksum == clean.checksum
    line = one_line(capfd.readouterr().err)
    assert line.startswith(f"warning: cache {npz}") and "rebuilding" in line


def test_temp_file_of_a_killed_cifar_decode_is_removed(tmp_path):
    cifar_folder(tmp_path / "src")
    cifar10.load_cifar10(tmp_path / "src", cache=tmp_path / "cache")
    (npz,) = (tmp_path / "cache").glob("*.npz")
    npz.unlink()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / "cache" / f".{npz.name}.tmp-{int(dead.stdout)}-abc"
    stale.write_bytes(b"half an npz")
    cifar10.load_cifar10(tmp_path / "src", cache=tmp_path / "cache")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [npz.name]


def test_cifar_folder_with_a_file_name_that_is_not_utf8(tmp_path):
    cifar_folder(tmp_path / "src")
    odd = os.fsdecode(bytes(tmp_path / "src" / "train" / "cat") + b"/\xff\xfe.png")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(odd, "PNG")
    data = cifar10.load_cifar10(tmp_path / "src", cache=tmp_path / "cache")
    assert len(data.train_y) == 11


# ------------------------------------------------------------------------------------ awkward images


def test_16bit_png_cmyk_non_utf8_name_small_image_and_empty_class_in_one_tree(tmp_path, capfd):
    src = tmp_path / "src"
    make_tree(src)
    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)  # 0..65535: the 8-bit ramp 0..255
    Image.fromarray(ramp).save(src / "train" / "a" / "9_16bit.png")
    assert Image.open(src / "train" / "a" / "9_16bit.png").mode.startswith("I")
    rgb = np.full((16, 16, 3), (200, 40, 90), np.uint8)
    Image.fromarray(rgb).convert("CMYK").save(src / "train" / "b" / "9_cmyk.jpg", quality=100)
    Image.fromarray(rgb).save(os.fsdecode(bytes(src / "train" / "b") + b"/\xff\xfe.png"), "PNG")
    Image.fromarray(rgb[:8, :8]).save(src / "val" / "a" / "9_small.png")  # 8 px in a 16 px cache
    data = imagefolder.load_imagefolder(src, size=16, cache=tmp_path / "cache", workers=2)
    assert len(data.train_y) == 9 and data.meta["skipped"] == []
    images = {int(lbl): [] for lbl in data.train_y}
    for img, lbl in zip(np.asarray(data.train_x), data.train_y):
        images[int(lbl)].append(img)
    assert any(np.array_equal(img[..., 0], ramp // 257) for img in images[0])  # not all white
    assert sum(np.abs(img.astype(int) - rgb).max() <= 3 for img in images[1]) == 2  # CMYK and the odd name
    assert data.describe()["upsampled"] == 1 and data.meta["upsampled"]["examples"] == ["val/a/9_small.png"]
    assert "upsampled" in one_line(capfd.readouterr().err)
    # An empty class folder is refused with the cache in place, as a fresh build refuses it.
    (src / "train" / "c").mkdir()
    (src / "val" / "c").mkdir()
    with pytest.raises(DataError, match=r"train/c holds no images"):
        imagefolder.load_imagefolder(src, size=16, cache=tmp_path / "cache", workers=0)


def test_find_dataset_accepts_the_tree_one_folder_down(tmp_path):
    make_tree(tmp_path / "data" / "mytree")
    assert imagefolder.find_dataset(tmp_path / "data") == tmp_path / "data" / "mytree"


def test_the_decode_pool_works_from_a_script_on_stdin(tmp_path):
    make_tree(tmp_path / "src")
    script = (
        f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        "from alexnet_repro.data.imagefolder import load_imagefolder\n"
        f"d = load_imagefolder({str(tmp_path / 'src')!r}, size=16, cache={str(tmp_path / 'c')!r}, workers=2)\n"
        "print(len(d.train_y))\n"
    )
    out = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "6", out.stderr[-2000:]


# ------------------------------------------------------------------------------ divergence, JSON


class PoisonedSGD(torch.optim.SGD):
    """SGD that turns the weights to NaN at its third step: a run that diverges at a known step."""

    def step(self, closure=None):
        super().step(closure)
        self.steps = getattr(self, "steps", 0) + 1
        if self.steps == 3:
            with torch.no_grad():
                self.param_groups[0]["params"][0].fill_(float("nan"))


def test_divergence_is_caught_within_the_epoch_with_its_wall_time(monkeypatch):
    n = 400
    y = torch.arange(n) % 10
    x = torch.randint(0, 256, (n, 32, 32, 3), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    data = type(tiny_data())(x, y, x[:20], y[:20], "tiny", "synthetic")
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 32 * 3, 10))
    monkeypatch.setattr(
        engine,
        "build_optimizer",
        lambda m, spec: PoisonedSGD([dict(params=list(m.parameters()), base_lr=1e-3)], lr=1e-3),
    )
    result = train(model, data, Normalizer(data.train_x), TrainSpec(lr=1e-3, batch_size=4, max_epochs=2))
    row = result.history[-1]
    assert result.status == "diverged" and len(result.history) == 1
    assert row["images_seen"] == 50 * 4  # stopped at the first check, 50 steps into a 100-step epoch
    assert result.wall_time_s > 0 and row["wall_time_s"] == result.wall_time_s


def test_results_are_strict_json_and_the_run_store_reads_its_nulls_back(tmp_path):
    atomic_write_json(tmp_path / "r.json", {"a": float("nan"), "b": [float("inf"), 1.5], "c": np.float32("nan")})
    strict = json.loads((tmp_path / "r.json").read_text(), parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert strict == {"a": None, "b": [None, 1.5], "c": None}
    from alexnet_repro.runs import cached_train

    data = tiny_data()
    first = cached_train(
        tmp_path, {"d": 1}, build, data, Normalizer(data.train_x), TrainSpec(lr=1e6, batch_size=32, max_epochs=2)
    )
    again = cached_train(tmp_path, {"d": 1}, lambda: pytest.fail("must not train again"), data, None, None)
    assert first.status == again.status == "diverged" and math.isnan(again.history[-1]["train_loss"])


# ---------------------------------------------------------------------------------------- results


def result(verdict="reproduced", claim="relu_vs_tanh"):
    return {
        "claim": claim,
        "claim_id": "R1",
        "scale": "smoke",
        "proxy": False,
        "paper": {},
        "measured": {},
        "verdict": verdict,
        "verdict_rule": "",
        "headline": "h",
        "provenance": {
            "git_commit": "x",
            "date": "d",
            "packages": {},
            "device": "cpu",
            "device_name": "cpu",
            "precision": "fp32",
            "dataset": {"sha256": "0"},
            "seeds": [0],
            "scale": "smoke",
            "config": {},
            "wall_time_s": 1.0,
        },
    }


@pytest.mark.parametrize("bad", ['{"verdict": "rep', "{}", "null", '{"verdict": "reproduced"}', "[1, 2]"])
def test_corrupt_result_json_is_named_in_one_line_by_list_and_book(tmp_path, capsys, bad):
    root = tmp_path / "results"
    atomic_write_json(root / "lrn_cifar" / "cpu" / "result.json", result("not reproduced", "lrn_cifar"))
    broken = root / "relu_vs_tanh" / "cpu" / "result.json"
    broken.parent.mkdir(parents=True)
    broken.write_text(bad)
    assert cli.main(["list"]) == 2
    out = capsys.readouterr()
    assert str(broken) in one_line(out.err)
    assert "not reproduced" in out.out  # the other results are still listed
    assert not any(line.startswith("relu_vs_tanh ") and "cpu" in line for line in out.out.splitlines())
    assert cli.main(["book"]) == 2
    assert str(broken) in one_line(capsys.readouterr().err)


# -------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def no_kernel(monkeypatch, tmp_path):
    """`run` without training or a notebook kernel: `compute` writes a result naming its seeds, and counts its runs."""
    calls = []
    monkeypatch.setenv("ALEXNET_REPRO_CACHE", str(tmp_path / "cache"))  # preflight writes a probe there

    def compute(slug, scale, out_dir, seeds, **common):
        calls.append(seeds)
        atomic_write_json(
            Path(out_dir) / "result.json", result(f"seeds={','.join(map(str, seeds or [])) or 'default'}")
        )

    def fake(slug, scale, out_dir, parameters, log_output=True):
        if parameters.get("die_after_result"):
            raise KeyboardInterrupt

    monkeypatch.setattr(cli, "compute", compute)
    monkeypatch.setattr(cli, "execute_notebook", fake)
    monkeypatch.setattr(cli, "prefill_in_parallel", lambda *a, **k: pytest.fail("no runs should start"))
    return calls


@pytest.mark.parametrize(
    "args, words",
    [
        (["--seeds", "0,0"], "seed 0 given twice"),
        (["--seeds", ""], "--seeds is empty"),
        (["--seeds", "-1"], "negative"),
        (["--jobs", "0"], "--jobs must be 1 or more"),
        (["--jobs", "-3"], "--jobs must be 1 or more"),
        (["--device", "tpu", "--jobs", "2"], "unknown device 'tpu'"),
    ],
)
def test_bad_run_arguments_are_one_line_and_exit_2(tmp_path, capsys, no_kernel, args, words):
    rc = cli.main(["run", "architecture", "--out-dir", str(tmp_path / "out"), *args])
    assert rc == 2 and words in one_line(capsys.readouterr().err) and not no_kernel


def test_stale_run_json_never_vouches_for_another_runs_result(tmp_path, capsys, monkeypatch, no_kernel):
    cifar_folder(tmp_path / "data")
    run = ["run", "relu_vs_tanh", "--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path / "data")]
    assert cli.main(run + ["--seeds", "0"]) == 0  # A
    real = cli.execute_notebook
    monkeypatch.setattr(cli, "execute_notebook", lambda *a, **k: real(*a[:3], {**a[3], "die_after_result": 1}))
    with pytest.raises(KeyboardInterrupt):  # B, killed right after its result.json
        cli.main(run)
    monkeypatch.setattr(cli, "execute_notebook", real)
    capsys.readouterr()
    assert cli.main(run + ["--seeds", "0"]) == 0  # A again: reruns, not "up to date" with B's result
    assert len(no_kernel) == 3 and "relu_vs_tanh: seeds=0" in capsys.readouterr().out
    assert cli.main(run + ["--seeds", "0"]) == 0 and len(no_kernel) == 3  # now it is up to date
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "data" / "train" / "cat" / "new.png")
    assert cli.main(run + ["--seeds", "0"]) == 0 and len(no_kernel) == 4  # the data changed: not up to date


def test_data_errors_come_before_the_kernel_with_exit_2(tmp_path, capsys, no_kernel):
    make_tree(tmp_path / "data")
    (tmp_path / "data" / "train" / "c").mkdir()
    (tmp_path / "data" / "val" / "c").mkdir()
    rc = cli.main(["run", "ten_patch", "--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path / "data")])
    assert rc == 2 and "train/c holds no images" in one_line(capsys.readouterr().err) and not no_kernel


def test_unwritable_paths_are_one_line(tmp_path, capsys, monkeypatch, no_kernel):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    assert cli.main(["run", "architecture", "--out-dir", str(a_file / "out")]) == 2
    assert str(a_file) in one_line(capsys.readouterr().err)
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", str(a_file))
    assert cli.main(["run", "architecture"]) == 2
    assert str(a_file) in one_line(capsys.readouterr().err)
    monkeypatch.setattr(cli, "execute_notebook", pytest.fail)  # never got this far
    monkeypatch.setenv("ALEXNET_REPRO_CACHE", str(a_file))
    assert cli.main(["run", "architecture", "--out-dir", str(tmp_path / "out")]) == 2
    assert f"{a_file} is a file" in one_line(capsys.readouterr().err)
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "read_only"
        ro.mkdir(mode=0o555)
        assert cli.main(["run", "architecture", "--out-dir", str(ro)]) == 2
        assert str(ro) in one_line(capsys.readouterr().err)


def test_a_full_disk_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch, no_kernel):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    assert cli.main(["run", "architecture", "--out-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]  # after the run's "== architecture ..." progress line
    assert (
        "Traceback" not in err
        and line.startswith("error:")
        and "No space left on device" in line
        and str(tmp_path / "out" / "architecture" / "smoke" / "result.json") in line
    )


def test_each_run_has_its_own_temp_notebook_and_leaves_none(tmp_path, monkeypatch):
    import papermill

    used = []

    def fake(src, out, **kw):
        used.append(out)
        Path(out).write_text("{}")
        if len(used) == 3:
            raise RuntimeError("the kernel died")

    monkeypatch.setattr(papermill, "execute_notebook", fake)
    for _ in range(2):
        cli.execute_notebook("architecture", "smoke", tmp_path, {})
    with pytest.raises(RuntimeError):
        cli.execute_notebook("architecture", "smoke", tmp_path, {})
    assert len(set(used)) == 3 and str(tmp_path / ".architecture.tmp.ipynb") not in used
    assert sorted(p.name for p in tmp_path.iterdir()) == ["architecture.ipynb"]


def test_every_claim_has_its_data_checked_before_the_kernel():
    from alexnet_repro import claims

    assert all(claims.load(s).DATA in ("cifar10", "family", None) for s in claims.registry())


# ------------------------------------------------------------------------------ the fault campaign's cases

BUILDER = """
import sys, time
sys.path[:0] = [{repo!r}]
from alexnet_repro.data import imagefolder
while time.time() < {start}:
    pass
print(imagefolder.load_imagefolder({src!r}, size=16, cache={cache!r}, workers=0).checksum)
"""


def test_two_processes_building_one_image_cache_at_once_both_get_it(tmp_path):
    """From an archive, as the shipped sample is: each extracts it, then decodes the extracted tree (the old
    code's second extraction deleted the tree the first was decoding, failing it in 4 of 6 pairs)."""
    import tarfile

    make_tree(tmp_path / "src", classes=("a", "b", "c"), n=40, size=24)
    with tarfile.open(tmp_path / "src.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src", arcname="src")
    for round_ in range(3):
        cache = tmp_path / f"cache{round_}"
        script = BUILDER.format(
            repo=str(REPO_ROOT), start=time.time() + 3, src=str(tmp_path / "src.tar.gz"), cache=str(cache)
        )
        procs = [
            subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
        assert outs[0][0] == outs[1][0] and len(outs[0][0].strip()) == 64
        assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == ["extracted", "src-16"]


def test_cifar_folder_with_16bit_pngs_is_read_as_it_looks(tmp_path):
    cifar_folder(tmp_path / "src")
    ramp = (np.arange(1024, dtype=np.uint16) * 64).reshape(32, 32)  # 0..65472: 8-bit 0..254, not all white
    Image.fromarray(ramp).save(tmp_path / "src" / "train" / "cat" / "9_16bit.png")
    assert Image.open(tmp_path / "src" / "train" / "cat" / "9_16bit.png").mode.startswith("I")
    data = cifar10.load_cifar10(tmp_path / "src", cache=tmp_path / "cache")
    grey = [img for img in np.asarray(data.train_x) if (img[..., 0] == img[..., 1]).all() and img.std() > 0]
    assert len(grey) == 1 and np.abs(grey[0][..., 0].astype(int) - np.round(ramp / 257)).max() <= 1


def test_run_json_vouches_only_for_the_files_it_was_written_with(tmp_path, capsys, no_kernel):
    """papermill run by hand (or another run) into the folder after `run` wrote run.json: not up to date."""
    cifar_folder(tmp_path / "data")
    run = ["run", "relu_vs_tanh", "--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path / "data")]
    assert cli.main(run + ["--seeds", "0"]) == 0 and len(no_kernel) == 1
    assert cli.main(run + ["--seeds", "0"]) == 0 and len(no_kernel) == 1  # up to date
    folder = tmp_path / "out" / "relu_vs_tanh" / "smoke"
    atomic_write_json(folder / "result.json", result("seeds=1"))  # another run's result, same folder
    capsys.readouterr()
    assert cli.main(run + ["--seeds", "0"]) == 0 and len(no_kernel) == 2
    assert "relu_vs_tanh: seeds=0" in capsys.readouterr().out
    assert json.loads((folder / "run.json").read_text())["files_sha256"]["result.json"]


def test_relative_paths_mean_what_they_meant_where_the_command_was_typed(tmp_path, monkeypatch, no_kernel):
    seen = []
    fake = cli.execute_notebook
    monkeypatch.setattr(
        cli,
        "execute_notebook",
        lambda slug, scale, out_dir, params, **kw: (
            seen.append((out_dir, {v: os.environ.get(v) for v in ("ALEXNET_REPRO_RESULTS", "ALEXNET_REPRO_RUNS")})),
            fake(slug, scale, out_dir, params),
        ),
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALEXNET_REPRO_RUNS", "rel_runs")
    monkeypatch.setenv("ALEXNET_REPRO_CACHE", "rel_cache")
    monkeypatch.setenv("ALEXNET_REPRO_RESULTS", "rel_results")
    assert cli.main(["run", "architecture", "--out-dir", "rel_out"]) == 0
    assert cli.main(["run", "architecture"]) == 0
    (out1, env), (out2, _) = seen
    assert Path(out1) == tmp_path / "rel_out" / "architecture" / "smoke"
    assert Path(out2) == tmp_path / "rel_results" / "architecture" / "smoke"
    assert env == {
        "ALEXNET_REPRO_RESULTS": str(tmp_path / "rel_results"),
        "ALEXNET_REPRO_RUNS": str(tmp_path / "rel_runs"),
    }
    assert os.environ["ALEXNET_REPRO_CACHE"] == str(tmp_path / "rel_cache")


def test_the_notebook_kernel_imports_this_checkout():
    env = cli.kernel_env({"PYTHONPATH": "/elsewhere"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), "/elsewhere"]


def test_damaged_marker_of_the_image_cache_is_named_and_rebuilt(tmp_path, capfd):
    make_tree(tmp_path / "src")
    kw = dict(size=16, cache=tmp_path / "cache", workers=0)
    clean = imagefolder.load_imagefolder(tmp_path / "src", **kw)
    (tmp_path / "cache" / "src-16" / "COMPLETE").write_bytes(b"\xff\xfe not utf-8")
    capfd.readouterr()
    assert imagefolder.load_imagefolder(tmp_path / "src", **kw).checksum == clean.checksum
    line = one_line(capfd.readouterr().err)
    assert line.startswith("warning: cache") and "meta.json" in line and "rebuilding" in line


def test_a_truncated_archive_fails_in_preflight_in_one_line(tmp_path, capsys, no_kernel):
    import tarfile

    cifar_folder(tmp_path / "tree", n=20)
    archive = tmp_path / "data" / "cifar10-jpg.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "tree", arcname="cifar10")
    os.truncate(archive, archive.stat().st_size * 2 // 3)
    rc = cli.main(["run", "relu_vs_tanh", "--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path / "data")])
    line = one_line(capsys.readouterr().err)
    assert rc == 2 and str(archive) in line and "not a readable archive" in line and not no_kernel


def test_a_damaged_extracted_copy_is_named_and_extracted_again(tmp_path, capfd):
    import tarfile

    make_tree(tmp_path / "src")
    with tarfile.open(tmp_path / "src.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src", arcname="src")
    kw = dict(size=16, cache=tmp_path / "cache", workers=0)
    clean = imagefolder.load_imagefolder(tmp_path / "src.tar.gz", **kw)
    (extracted,) = (tmp_path / "cache" / "extracted").glob("src-*")
    flip_byte(extracted / "src" / "train" / "a" / "0.png", at=100)
    shutil.rmtree(tmp_path / "cache" / "src-16")  # the decoded cache is rebuilt from the extracted copy
    capfd.readouterr()
    assert imagefolder.load_imagefolder(tmp_path / "src.tar.gz", **kw).checksum == clean.checksum
    line = one_line(capfd.readouterr().err)
    assert line.startswith("warning: extracted copy") and "0.png" in line


@pytest.mark.parametrize(
    "field, value", [("headline", 3), ("provenance", {"reread": "x"}), ("comparisons", [1]), ("proxy", "no")]
)
def test_a_result_field_of_the_wrong_type_is_one_line_in_list(tmp_path, capsys, field, value):
    broken = result()
    broken[field] = {**broken["provenance"], **value} if field == "provenance" else value
    path = tmp_path / "results" / "relu_vs_tanh" / "cpu" / "result.json"
    atomic_write_json(path, broken)
    assert cli.main(["list"]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(path) in line and "wrong type" in line


def test_the_temp_notebook_of_a_killed_run_is_removed_by_the_next(tmp_path, monkeypatch):
    import papermill

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f".architecture.ipynb.tmp-{int(dead.stdout)}-abc.ipynb"
    left.write_text("{}")
    monkeypatch.setattr(papermill, "execute_notebook", lambda src, out, **kw: Path(out).write_text("{}"))
    cli.execute_notebook("architecture", "smoke", tmp_path, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["architecture.ipynb"]


def test_a_full_disk_while_the_notebook_is_written_names_the_path(tmp_path, capsys, monkeypatch):
    import papermill

    monkeypatch.setenv("ALEXNET_REPRO_CACHE", str(tmp_path / "cache"))

    def no_space(src, out, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")  # as a write() fails: no file named

    monkeypatch.setattr(papermill, "execute_notebook", no_space)
    monkeypatch.setattr(cli, "compute", lambda *a, **k: None)  # the result is made before the notebook is written
    assert cli.main(["run", "architecture", "--out-dir", str(tmp_path / "out")]) == 1
    line = one_line(capsys.readouterr().err.replace("note: architecture", "").strip().splitlines()[-1])
    assert "No space left on device" in line and str(tmp_path / "out" / "architecture" / "smoke") in line


def test_retrain_sets_the_claims_runs_aside_and_force_does_not(tmp_path, capsys, no_kernel):
    cifar_folder(tmp_path / "data")
    store = Path(os.environ["ALEXNET_REPRO_RUNS"]) / "relu_vs_tanh" / "smoke"
    (store / "abc").mkdir(parents=True)
    run = ["run", "relu_vs_tanh", "--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path / "data")]
    assert cli.main(run + ["--force"]) == 0 and (store / "abc").exists()
    assert "note: relu_vs_tanh at scale smoke" in capsys.readouterr().err
    assert cli.main(["-q", *run, "--retrain"]) == 0 and not store.exists() and len(no_kernel) == 2
    (aside,) = store.parent.glob("smoke.retired-*")
    assert (aside / "abc").is_dir()
    assert capsys.readouterr().err == ""  # -q: notes are not said


def test_progress_off_a_terminal_is_one_line_per_epoch_and_left_out_of_results(monkeypatch, capsys):
    from alexnet_repro import engine
    from alexnet_repro.results import clean_notebook

    monkeypatch.setenv("ALEXNET_REPRO_PROGRESS", "lines")
    monkeypatch.delenv("ALEXNET_REPRO_QUIET")
    monkeypatch.delitem(sys.modules, "pytest")  # the bar is off under pytest
    bar = engine._progress(30, "R1 relu")
    for epoch in range(3):
        bar.update(10)
        bar.set_postfix(err="0.5", refresh=False)
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and "\r" not in "".join(lines) and lines[-1].startswith("R1 relu: 100%|")
    nb = {"cells": [{"outputs": [{"output_type": "stream", "name": "stderr", "text": line + "\n"}]} for line in lines]}
    assert all(c["outputs"] == [] for c in clean_notebook(nb)["cells"])


def test_a_truncated_executed_notebook_is_one_line_in_book(tmp_path, capsys):
    folder = tmp_path / "results" / "relu_vs_tanh" / "cpu"
    atomic_write_json(folder / "result.json", result())
    (folder / "relu_vs_tanh.ipynb").write_text('{"cells": [{"cell_type": "code", "sou')
    assert cli.main(["book"]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(folder / "relu_vs_tanh.ipynb") in line and "not a readable notebook" in line
