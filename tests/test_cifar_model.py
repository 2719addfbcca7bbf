import torch

from alexnet_repro.models.cifar import Net19pct


def test_19pct_shapes_and_parameter_count():
    net = Net19pct("relu")
    x = torch.zeros(2, 3, 32, 32)
    shapes = []
    h = x
    for layer in net.features:
        h = layer(h)
        shapes.append(tuple(h.shape[1:]))
    # conv1 -> pool 16 -> act -> conv2 -> act -> pool 8 -> conv3 -> act -> pool 4 (ceil-mode pools)
    assert shapes == [
        (32, 32, 32),
        (32, 16, 16),
        (32, 16, 16),
        (32, 16, 16),
        (32, 16, 16),
        (32, 8, 8),
        (64, 8, 8),
        (64, 8, 8),
        (64, 4, 4),
    ]
    assert net(x).shape == (2, 10)
    # 5*5*3*32+32 + 5*5*32*32+32 + 5*5*32*64+64 + 64*4*4*10+10
    assert sum(p.numel() for p in net.parameters()) == 2432 + 25632 + 51264 + 10250 == 89578


def test_19pct_activation_switch_and_cuda_convnet_init():
    torch.manual_seed(0)
    relu, tanh = Net19pct("relu"), Net19pct("tanh")
    assert any(isinstance(m, torch.nn.ReLU) for m in relu.modules())
    assert any(isinstance(m, torch.nn.Tanh) for m in tanh.modules()) and not any(
        isinstance(m, torch.nn.ReLU) for m in tanh.modules()
    )
    assert abs(relu.conv1.weight.std().item() - 1e-4) < 1e-5
    assert abs(relu.conv2.weight.std().item() - 1e-2) < 1e-3
    assert torch.all(relu.conv3.bias == 0)


def test_19pct_rejects_unknown_activation():
    import pytest

    with pytest.raises(ValueError, match="relu"):
        Net19pct("sigmoid")
