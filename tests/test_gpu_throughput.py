"""benchmarks/gpu_throughput.py at --smoke: every path of the GPU benchmark runs on the CPU, tiny, and writes its file."""

import importlib.util
import re
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "gpu_throughput", Path(__file__).parent.parent / "benchmarks" / "gpu_throughput.py"
)
gpu_throughput = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_throughput)


def test_smoke_runs_every_path_and_writes_its_output(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_REPRO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "gpu_throughput.txt"
    assert gpu_throughput.main(["--smoke", "--out", str(out)]) == 0
    text = out.read_text()
    assert "'precision': 'bf16'" in text and "'compile': 'aot_eager'" in text  # the switches it ran with
    rates = {k: float(re.search(rf"^\({k}\) .*?([\d.]+) img/s", text, re.M).group(1)) for k in "123"}
    assert all(r > 0 for r in rates.values())
    ratio = float(re.search(r"\(1\)/\(2\) = ([\d.]+)x", text).group(1))
    assert abs(ratio - rates["1"] / rates["2"]) < 0.01 + 0.01 * ratio
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())  # synthetic data: thrown away
