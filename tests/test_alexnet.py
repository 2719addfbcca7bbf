import pytest
import torch
from torch import nn

from alexnet_repro.models.alexnet import AlexNet, AlexNetConfig, TwoDeviceAlexNet, build_alexnet
from alexnet_repro.models.counts import layer_table, totals, weight_layers
from alexnet_repro.models.lrn import LocalResponseNorm


def conv_params(out, in_per_group, k):
    return out * in_per_group * k * k + out


def fc_params(n_in, n_out):
    return n_in * n_out + n_out


# Section 3.5 by hand: conv1 96x11x11x3; conv2 256x5x5x48; conv3 384x3x3x256; conv4 384x3x3x192;
# conv5 256x3x3x192; fc6 4096 from 256*6*6; fc7 4096; fc8 1000.
PAPER = {
    "conv1": conv_params(96, 3, 11),
    "conv2": conv_params(256, 48, 5),
    "conv3": conv_params(384, 256, 3),
    "conv4": conv_params(384, 192, 3),
    "conv5": conv_params(256, 192, 3),
    "fc6": fc_params(256 * 6 * 6, 4096),
    "fc7": fc_params(4096, 4096),
    "fc8": fc_params(4096, 1000),
}


def meta_model(**kw):
    with torch.device("meta"):
        return AlexNet(AlexNetConfig(**kw))


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def rows_by_name(cfg):
    return {r["layer"]: r for r in layer_table(cfg)}


def test_paper_parameter_count():
    assert sum(PAPER.values()) == 60_965_224
    rows = rows_by_name(AlexNetConfig())
    assert {name: rows[name]["parameters"] for name in PAPER} == PAPER
    assert n_params(meta_model()) == 60_965_224


@pytest.mark.parametrize("size,input_neurons", [(227, 154_587), (224, 150_528)])
def test_paper_shapes_and_neurons(size, input_neurons):
    rows = rows_by_name(AlexNetConfig(input_size=size))
    assert rows["input"]["neurons"] == input_neurons
    shapes = {
        name: rows[name]["output_shape"]
        for name in ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8")
    }
    assert shapes == {
        "conv1": (96, 55, 55),
        "pool1": (96, 27, 27),
        "conv2": (256, 27, 27),
        "pool2": (256, 13, 13),
        "conv3": (384, 13, 13),
        "conv4": (384, 13, 13),
        "conv5": (256, 13, 13),
        "pool5": (256, 6, 6),
        "fc6": (4096,),
        "fc7": (4096,),
        "fc8": (1000,),
    }
    neurons = [r["neurons"] for r in weight_layers(layer_table(AlexNetConfig(input_size=size)))]
    # Fig. 2: 253,440-186,624-64,896-64,896-43,264-4096-4096-1000. conv1 cannot be 253,440
    # with 96 maps (253,440/96 = 2,640 is not a square); 55*55*96 is what the net has.
    assert neurons == [290_400, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
    assert 640_000 < sum(neurons) < 660_000  # "650,000 neurons"


def test_parameter_shares():
    rows = rows_by_name(AlexNetConfig())
    share = {name: rows[name]["param_share"] for name in PAPER}
    assert abs(sum(share.values()) - 1) < 1e-12
    # A4 says every conv layer holds <= 1%; conv3 and conv4 do not
    assert share["conv1"] < 0.01 and share["conv2"] < 0.01 and share["conv5"] < 0.01
    assert 0.014 < share["conv3"] < 0.015 and 0.010 < share["conv4"] < 0.011
    assert rows["conv1"]["mult_adds"] == 96 * 55 * 55 * 3 * 11 * 11
    assert rows["conv2"]["mult_adds"] == 256 * 27 * 27 * 48 * 5 * 5


def test_224_pads_conv1():
    assert AlexNetConfig(input_size=224).conv1_padding == 2
    assert AlexNetConfig().conv1_padding == 0
    assert meta_model(input_size=224).features.conv1.padding == (2, 2)
    with pytest.raises(ValueError):
        AlexNetConfig(input_size=60)


def test_layer_order_is_the_papers():
    m = meta_model()
    assert list(m.features._modules) == [
        "conv1",
        "act1",
        "norm1",
        "pool1",
        "conv2",
        "act2",
        "norm2",
        "pool2",
        "conv3",
        "act3",
        "conv4",
        "act4",
        "conv5",
        "act5",
        "pool5",
    ]
    assert list(m.classifier._modules) == ["fc6", "act6", "drop6", "fc7", "act7", "drop7", "fc8"]
    f = m.features
    assert all(isinstance(getattr(f, f"act{i}"), nn.ReLU) for i in "12345")
    assert isinstance(f.norm1, LocalResponseNorm) and (f.norm1.size, f.norm1.k, f.norm1.alpha, f.norm1.beta) == (
        5,
        2.0,
        1e-4,
        0.75,
    )
    assert all((p.kernel_size, p.stride) == (3, 2) for p in (f.pool1, f.pool2, f.pool5))
    assert [f.conv1.groups, f.conv2.groups, f.conv3.groups, f.conv4.groups, f.conv5.groups] == [1, 2, 1, 2, 2]
    assert f.conv1.stride == (4, 4) and f.conv2.padding == (2, 2) and f.conv3.padding == (1, 1)
    assert [m.classifier.drop6.p, m.classifier.drop7.p] == [0.5, 0.5]


def test_columns_one_and_half():
    one = rows_by_name(AlexNetConfig(columns="one"))
    assert one["conv2"]["parameters"] == conv_params(256, 96, 5)
    assert one["conv4"]["parameters"] == conv_params(384, 384, 3)
    assert one["conv5"]["parameters"] == conv_params(256, 384, 3)
    assert meta_model(columns="one").features.conv2.groups == 1

    half = rows_by_name(AlexNetConfig(columns="half"))
    expect = {
        "conv1": conv_params(48, 3, 11),
        "conv2": conv_params(128, 48, 5),
        "conv3": conv_params(192, 128, 3),
        "conv4": conv_params(192, 192, 3),
        "conv5": conv_params(256, 192, 3),
    }
    assert {k: half[k]["parameters"] for k in expect} == expect
    assert {k: half[k]["parameters"] for k in ("fc6", "fc7", "fc8")} == {k: PAPER[k] for k in ("fc6", "fc7", "fc8")}
    assert half["conv5"]["output_shape"] == (256, 13, 13)
    # footnote 2: conv5 and the FC layers stay full so the parameter counts are close
    assert abs(n_params(meta_model(columns="half")) / 60_965_224 - 1) < 0.03


def test_pooling_switch():
    m = meta_model(pooling="non_overlapping")
    assert all((p.kernel_size, p.stride) == (2, 2) for p in (m.features.pool1, m.features.pool2, m.features.pool5))
    rows = rows_by_name(AlexNetConfig(pooling="non_overlapping"))
    assert [rows[p]["output_shape"] for p in ("pool1", "pool2", "pool5")] == [(96, 27, 27), (256, 13, 13), (256, 6, 6)]
    assert n_params(m) == 60_965_224


def test_activation_and_normalization_switches():
    m = meta_model(activation="tanh")
    assert not any(isinstance(x, nn.ReLU) for x in m.modules())
    assert sum(isinstance(x, nn.Tanh) for x in m.modules()) == 7
    m = meta_model(normalization="none")
    assert not hasattr(m.features, "norm1") and not hasattr(m.features, "norm2")
    assert n_params(m) == 60_965_224
    m = meta_model(normalization="batchnorm")
    assert list(m.features._modules)[:4] == ["conv1", "act1", "norm1", "pool1"]
    assert isinstance(m.features.norm2, nn.BatchNorm2d) and m.features.norm2.num_features == 256
    assert m.features.norm1.num_features == 96
    assert meta_model(lrn_alpha_convention="paper").features.norm1.alpha_convention == "paper"


@pytest.mark.parametrize(
    "removed,expect",
    [
        ("conv3", {"conv4": conv_params(384, 128, 3), "conv5": conv_params(256, 192, 3), "fc6": fc_params(9216, 4096)}),
        ("conv4", {"conv3": conv_params(384, 256, 3), "conv5": conv_params(256, 192, 3), "fc6": fc_params(9216, 4096)}),
        (
            "conv5",
            {"conv3": conv_params(384, 256, 3), "conv4": conv_params(384, 192, 3), "fc6": fc_params(384 * 36, 4096)},
        ),
    ],
)
def test_remove_a_layer(removed, expect):
    rows = rows_by_name(AlexNetConfig(remove=removed))
    assert removed not in rows
    assert {k: rows[k]["parameters"] for k in expect} == expect
    last_pool = [r for r in layer_table(AlexNetConfig(remove=removed)) if r["kind"] == "MaxPool2d"][-1]
    assert last_pool["output_shape"][1:] == (6, 6)
    m = meta_model(remove=removed)
    assert not hasattr(m.features, removed)
    assert list(m.features._modules)[-1].startswith("pool")  # max-pooling still follows the last conv


def test_width_and_small_input_forward():
    cfg = AlexNetConfig(width=0.125, input_size=67, num_classes=10)
    m = build_alexnet(cfg)
    f = m.features
    assert [
        f.conv1.out_channels,
        f.conv2.out_channels,
        f.conv3.out_channels,
        f.conv4.out_channels,
        f.conv5.out_channels,
        m.classifier.fc6.out_features,
    ] == [12, 32, 48, 48, 32, 512]
    assert f.conv2.weight.shape == (32, 6, 5, 5)  # still two columns of 6 maps each
    rows = rows_by_name(cfg)
    assert rows["conv1"]["output_shape"] == (12, 15, 15) and rows["pool5"]["output_shape"] == (32, 1, 1)
    x = torch.randn(3, 3, 67, 67)
    assert m(x).shape == (3, 10)
    assert m(x.contiguous(memory_format=torch.channels_last)).shape == (3, 10)
    assert n_params(m) == sum(r["parameters"] for r in layer_table(cfg))


def test_init_statistics_and_biases():
    torch.manual_seed(0)
    m = AlexNet()
    layers = {**dict(m.features.named_children()), **dict(m.classifier.named_children())}
    for name in PAPER:
        w, b = layers[name].weight, layers[name].bias
        assert abs(w.mean().item()) < 5 * 0.01 / w.numel() ** 0.5, name
        assert abs(w.std().item() / 0.01 - 1) < 0.03, name
        expected_bias = 1.0 if name in ("conv2", "conv4", "conv5", "fc6", "fc7") else 0.0
        assert torch.all(b == expected_bias), name
    # the full-size net at 227: one batch of 2
    with torch.no_grad():
        assert m.eval()(torch.randn(2, 3, 227, 227)).shape == (2, 1000)


def test_dropout_acts_on_fc6_and_fc7_outputs():
    torch.manual_seed(0)
    m = build_alexnet(AlexNetConfig(width=0.25, input_size=67, num_classes=10))
    seen = {}
    for name in ("fc6", "fc7", "fc8"):
        getattr(m.classifier, name).register_forward_hook(
            lambda mod, inp, out, name=name: seen.__setitem__(name, inp[0])
        )
    m.features.register_forward_hook(lambda mod, inp, out: seen.__setitem__("pool5", out.flatten(1)))
    x = torch.randn(4, 3, 67, 67)

    m.train()
    m(x)
    assert torch.equal(seen["fc6"], seen["pool5"])  # fc6's input is not dropped
    for name in ("fc7", "fc8"):  # fc6/fc7 outputs: ReLU(.. + bias 1) > 0, so the zeros are dropout's
        zero = (seen[name] == 0).float().mean().item()
        assert 0.4 < zero < 0.6, (name, zero)
    y1, y2 = m(x), m(x)
    assert not torch.allclose(y1, y2)

    m.eval()
    y1, y2 = m(x), m(x)
    assert torch.equal(y1, y2)
    assert (seen["fc7"] == 0).float().mean() < 0.05  # no dropout, no 2x rescaling
    m_nodrop = build_alexnet(AlexNetConfig(width=0.25, input_size=67, num_classes=10, dropout=0.0))
    m_nodrop.load_state_dict(m.state_dict())
    torch.testing.assert_close(m_nodrop.train()(x), y1)


def test_grouped_convs_keep_columns_apart():
    # M2: conv2/4/5 see only their own column; conv3 sees both
    m = build_alexnet(AlexNetConfig(width=0.125, input_size=67, num_classes=10))
    f = m.features
    x = torch.randn(2, f.conv2.in_channels, 7, 7)
    x2 = x.clone()
    half = x.shape[1] // 2
    x2[:, half:] += 1.0  # change column 1's maps only
    with torch.no_grad():
        out, out2 = f.conv2(x), f.conv2(x2)
        c = f.conv2.out_channels // 2
        assert torch.equal(out[:, :c], out2[:, :c]) and not torch.allclose(out[:, c:], out2[:, c:])
        y = torch.randn(2, f.conv3.in_channels, 5, 5)
        y2 = y.clone()
        y2[:, f.conv3.in_channels // 2 :] += 1.0
        c = f.conv3.out_channels // 2
        assert not torch.allclose(f.conv3(y)[:, :c], f.conv3(y2)[:, :c])


def grads_by_key(model):
    return {k: p.grad for k, p in model.named_parameters()}


@pytest.mark.parametrize("kw", [dict(), dict(normalization="batchnorm"), dict(remove="conv3", num_classes=7)])
def test_two_device_equals_grouped(kw):
    cfg = AlexNetConfig(width=0.125, input_size=67, dropout=0.0, **{"num_classes": 10, **kw})
    torch.manual_seed(0)
    grouped = build_alexnet(cfg)
    two = TwoDeviceAlexNet(cfg, devices=("cpu", "cpu"))
    two.load_state_dict(grouped.state_dict())
    col0 = two.columns[0]
    assert col0.features.conv2.weight.shape == (
        grouped.features.conv2.out_channels // 2,
        grouped.features.conv2.in_channels // 2,
        5,
        5,
    )
    assert col0.classifier.fc6.in_features == grouped.classifier.fc6.in_features
    assert col0.classifier.fc8.out_features + two.columns[1].classifier.fc8.out_features == cfg.num_classes

    x = torch.randn(3, 3, 67, 67)
    target = torch.randint(0, cfg.num_classes, (3,))
    for model in (grouped, two):
        model.train()
        out = model(x)
        nn.functional.cross_entropy(out, target).backward()
        model.out = out.detach()
    torch.testing.assert_close(two.out, grouped.out, rtol=1e-4, atol=1e-5)

    # gather the columns' gradients back into the grouped layout and compare
    g0, g1 = (grads_by_key(col) for col in two.columns)
    for key, g in grads_by_key(grouped).items():
        torch.testing.assert_close(torch.cat([g0[key], g1[key]]), g, rtol=1e-4, atol=1e-6, msg=key)

    # weights (and BN statistics) round-trip
    for key, t in two.state_dict().items():
        torch.testing.assert_close(t, grouped.state_dict()[key], msg=key)


def test_two_device_eval_with_dropout_matches():
    cfg = AlexNetConfig(width=0.125, input_size=67, num_classes=10)
    grouped = build_alexnet(cfg).eval()
    two = TwoDeviceAlexNet(cfg).eval()
    two.load_state_dict(grouped.state_dict())
    x = torch.randn(2, 3, 67, 67)
    with torch.no_grad():
        torch.testing.assert_close(two(x), grouped(x), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        TwoDeviceAlexNet(AlexNetConfig(columns="one"))


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_two_device_on_two_gpus():
    cfg = AlexNetConfig(width=0.25, input_size=99, num_classes=10, dropout=0.0)
    grouped = build_alexnet(cfg).eval()
    two = TwoDeviceAlexNet(cfg, devices=("cuda:0", "cuda:1")).eval()
    two.load_state_dict(grouped.state_dict())
    assert two.columns[1].features.conv1.weight.device == torch.device("cuda:1")
    x = torch.randn(2, 3, 99, 99)
    with torch.no_grad():
        torch.testing.assert_close(two(x).cpu(), grouped(x), rtol=1e-3, atol=1e-4)


def test_totals_helper():
    t = totals(layer_table(AlexNetConfig()))
    assert t["parameters"] == 60_965_224 and t["neurons"] == 659_272


# ------------------------------------------------------------------ the CIFAR-10 AlexNet (issue 11)
from alexnet_repro.models.alexnet import cifar_alexnet_config, feature_size  # noqa: E402

CIFAR_SWITCHES = [
    {},
    {"normalization": "none"},
    {"normalization": "batchnorm"},
    {"pooling": "non_overlapping"},
    {"columns": "half"},
    {"dropout": 0.0},
    {"remove": "conv3"},
    {"remove": "conv4"},
    {"remove": "conv5"},
    {"activation": "tanh"},
]


@pytest.mark.parametrize("switch", CIFAR_SWITCHES, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "paper")
def test_cifar_alexnet_every_switch_builds_and_keeps_the_map_sizes(switch):
    cfg = cifar_alexnet_config(**switch)
    model = build_alexnet(cfg)
    out = model(torch.zeros(2, 3, 24, 24))
    assert out.shape == (2, 10)
    sizes = [m.out_channels for m in model.features if isinstance(m, nn.Conv2d)]
    pools = [m for m in model.features if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 3 and feature_size(cfg) == 3  # 24 -> 12 -> 6 -> 3 with either pooling
    assert model.classifier.fc6.in_features == sizes[-1] * 9
    assert model.features.conv1.kernel_size == (5, 5) and model.features.conv1.stride == (1, 1)


def test_cifar_alexnet_parameter_counts_per_switch():
    def count(**kw):
        return sum(p.numel() for p in build_alexnet(cifar_alexnet_config(**kw)).parameters())

    paper = count()
    # LRN and pooling have no parameters: removing or changing them leaves the count; BN adds 2 per map
    assert count(normalization="none") == count(pooling="non_overlapping") == count(dropout=0.0) == paper
    assert count(normalization="batchnorm") == paper + 2 * (24 + 64)
    # the two-column connectivity (M2): conv2, conv4, conv5 see half the maps below them
    m = build_alexnet(cifar_alexnet_config())
    assert [getattr(m.features, n).groups for n in ("conv1", "conv2", "conv3", "conv4", "conv5")] == [1, 2, 1, 2, 2]
    assert count(columns="half") < paper and count(remove="conv3") < paper
