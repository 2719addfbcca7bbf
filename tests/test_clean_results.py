"""What results/ keeps: notebooks without progress bars or machine paths, data sources by name (results.clean_*)."""

import json

from alexnet_repro.__main__ import main
from alexnet_repro.results import clean_notebook, scrub_paths


def _notebook():
    bar = {"output_type": "stream", "name": "stderr", "text": ["epoch 1:  40%|####      | 4/10 [00:01<00:02]\r"]}
    warning = {"output_type": "stream", "name": "stderr", "text": ["UserWarning: something worth reading\n"]}
    provenance = {
        "output_type": "stream",
        "name": "stdout",
        "text": ['{"source": "/home/ann/data/cifar10-jpg.tar.gz", "pool": "3/2"}\n'],
    }
    png = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": "iVBOR//8/abc/def", "text/plain": ["<Figure>"]},
    }
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": "a1",
                "metadata": {"tags": ["injected-parameters"]},
                "execution_count": 1,
                "outputs": [],
                "source": ['out_dir = "/srv/ci/alexnet-repro/results/relu_vs_tanh/cpu"\n'],
            },
            {
                "cell_type": "code",
                "id": "a2",
                "metadata": {},
                "execution_count": 2,
                "outputs": [bar, warning, provenance, png],
                "source": ["run()"],
            },
        ],
        "metadata": {"papermill": {"input_path": "/srv/ci/alexnet-repro/notebooks/relu_vs_tanh.ipynb"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_clean_notebook_drops_progress_bars_and_machine_paths():
    nb = clean_notebook(_notebook())
    text = json.dumps(nb)
    assert "/srv/" not in text and "/home/" not in text
    assert nb["metadata"]["papermill"]["input_path"] == "notebooks/relu_vs_tanh.ipynb"
    assert nb["cells"][0]["source"] == ['out_dir = "results/relu_vs_tanh/cpu"\n']
    outputs = nb["cells"][1]["outputs"]
    assert [o.get("name") for o in outputs] == ["stderr", "stdout", None]  # the bar is gone, the warning stays
    assert "cifar10-jpg.tar.gz" in outputs[1]["text"][0] and '"3/2"' in outputs[1]["text"][0]
    assert outputs[2]["data"]["image/png"] == "iVBOR//8/abc/def"  # base64 is not a path


def test_scrub_paths_leaves_ratios_and_urls_alone():
    assert (
        scrub_paths("3/2 pooling, top-1/top-5, img/s, https://example.org/a/b")
        == "3/2 pooling, top-1/top-5, img/s, https://example.org/a/b"
    )
    assert scrub_paths("data at /tmp/data/imagenette-224.tar.gz.") == "data at imagenette-224.tar.gz."
    assert scrub_paths("folder-tar:/srv/data/cifar10-jpg.tar.gz") == "folder-tar:cifar10-jpg.tar.gz"


def test_clean_results_command_cleans_results_in_place(tmp_path, capsys):
    folder = tmp_path / "results" / "relu_vs_tanh" / "cpu"
    folder.mkdir(parents=True)
    (folder / "relu_vs_tanh.ipynb").write_text(json.dumps(_notebook()))
    result = {"speedup": 3.4444, "provenance": {"dataset": {"source": "folder-tar:/srv/data/c.tar.gz"}}}
    (folder / "result.json").write_text(json.dumps(result, indent=2))
    assert main(["clean-results"]) == 0
    assert "cleaned 1 notebook(s) and 1 result.json" in capsys.readouterr().out
    assert "/srv/" not in (folder / "relu_vs_tanh.ipynb").read_text()
    cleaned = json.loads((folder / "result.json").read_text())
    assert cleaned["provenance"]["dataset"]["source"] == "folder-tar:c.tar.gz" and cleaned["speedup"] == 3.4444
    assert main(["clean-results"]) == 0 and "cleaned 0 notebook(s) and 0" in capsys.readouterr().out


def test_datasets_are_described_by_name_not_path():
    import torch

    from alexnet_repro.data.cifar10 import Cifar10

    x, y = torch.zeros(2, 3, 32, 32, dtype=torch.uint8), torch.zeros(2, dtype=torch.long)
    data = Cifar10(x, y, x, y, "abc", "folder-tar:/home/ann/data/cifar10-jpg.tar.gz")
    assert data.describe()["source"] == "folder-tar:cifar10-jpg.tar.gz"
