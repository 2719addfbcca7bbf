import pytest
import torch
from torch import nn

from alexnet_repro.optim import PaperSGD, PlateauSchedule, param_groups


def problem(seed=0):
    """A small least-squares model in float64, so iterates can be compared tightly."""
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(64, 5, generator=g, dtype=torch.float64), torch.randn(64, 3, generator=g, dtype=torch.float64)
    model = nn.Linear(5, 3).double()
    with torch.no_grad():
        model.weight.copy_(torch.randn(3, 5, generator=g))
        model.bias.copy_(torch.randn(3, generator=g))
    return model, x, y


def step(model, opt, x, y):
    opt.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    opt.step()


def params(model):
    return [p.detach().clone() for p in model.parameters()]


def test_single_step_is_the_papers_formula():
    model, x, y = problem()
    w0 = params(model)
    opt = PaperSGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    step(model, opt, x, y)
    grads = [p.grad for p in model.parameters()]
    v1 = [-5e-4 * 0.1 * w - 0.1 * g for w, g in zip(w0, grads)]
    for p, w, v in zip(model.parameters(), w0, v1):
        torch.testing.assert_close(p.detach(), w + v)
    step(model, opt, x, y)  # second step: v2 = 0.9 v1 - wd eps w1 - eps g1
    w1 = [w + v for w, v in zip(w0, v1)]
    for p, w, v in zip(model.parameters(), w1, v1):
        v2 = 0.9 * v - 5e-4 * 0.1 * w - 0.1 * p.grad
        torch.testing.assert_close(p.detach(), w + v2)


def test_same_as_torch_sgd_until_the_learning_rate_changes():
    a, b = 0.05, 0.005
    m_paper, x, y = problem()
    m_torch, _, _ = problem()
    paper = PaperSGD(m_paper.parameters(), lr=a, momentum=0.9, weight_decay=5e-4)
    sgd = torch.optim.SGD(m_torch.parameters(), lr=a, momentum=0.9, weight_decay=5e-4)
    for _ in range(20):
        step(m_paper, paper, x, y)
        step(m_torch, sgd, x, y)
    for p, q in zip(m_paper.parameters(), m_torch.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)
    # inside the optimizers: PaperSGD's velocity is -lr times SGD's buffer
    for p, q in zip(m_paper.parameters(), m_torch.parameters()):
        torch.testing.assert_close(paper.state[p]["velocity"], -a * sgd.state[q]["momentum_buffer"])

    buffers = [sgd.state[q]["momentum_buffer"].clone() for q in m_torch.parameters()]
    for opt in (paper, sgd):
        opt.param_groups[0]["lr"] = b
    before = params(m_paper)
    step(m_paper, paper, x, y)
    step(m_torch, sgd, x, y)
    # same point and gradient before this step, so the steps differ only in the momentum term:
    # paper: -(a m buf + b g'), torch: -(b m buf + b g')  =>  paper - torch = (b - a) m buf
    for p, q, buf, w in zip(m_paper.parameters(), m_torch.parameters(), buffers, before):
        diff = p.detach() - q.detach()
        torch.testing.assert_close(diff, (b - a) * 0.9 * buf, rtol=1e-9, atol=1e-14)
        assert diff.abs().max() > 1e-3 * (p.detach() - w).abs().max()
    for _ in range(10):
        step(m_paper, paper, x, y)
        step(m_torch, sgd, x, y)
    assert not torch.allclose(m_paper.weight, m_torch.weight, rtol=1e-6, atol=1e-9)


def test_no_momentum_no_decay_is_gradient_descent():
    m_paper, x, y = problem()
    m_ref, _, _ = problem()
    paper = PaperSGD(m_paper.parameters(), lr=0.1, momentum=0.0, weight_decay=0.0)
    for _ in range(3):
        step(m_paper, paper, x, y)
        m_ref.zero_grad()
        nn.functional.mse_loss(m_ref(x), y).backward()
        with torch.no_grad():
            for p in m_ref.parameters():
                p -= 0.1 * p.grad
    for p, q in zip(m_paper.parameters(), m_ref.parameters()):
        torch.testing.assert_close(p, q)


def test_param_groups_spare_biases():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    groups = param_groups(model, weight_decay=5e-4)
    assert [g["weight_decay"] for g in groups] == [5e-4, 0.0]
    assert {id(p) for p in groups[0]["params"]} == {id(model[0].weight), id(model[3].weight)}
    assert len(groups[1]["params"]) == 4  # conv bias, BN weight and bias, fc bias
    assert len(param_groups(model, decay_biases=True)) == 1

    # a bias with zero gradient under PaperSGD: moves only if it is decayed
    lin = nn.Linear(2, 1)
    opt = PaperSGD(param_groups(lin, weight_decay=0.5), lr=0.1)
    b0 = lin.bias.detach().clone()
    lin.weight.grad, lin.bias.grad = torch.zeros_like(lin.weight), torch.zeros_like(lin.bias)
    w0 = lin.weight.detach().clone()
    opt.step()
    assert torch.equal(lin.bias.detach(), b0)
    torch.testing.assert_close(lin.weight.detach(), w0 * (1 - 0.5 * 0.1))


def test_plateau_schedule_divides_by_ten_at_most_three_times():
    opt = PaperSGD(param_groups(nn.Linear(2, 2)), lr=123.0)
    sched = PlateauSchedule(opt, lr=0.01, patience=2)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.01]  # one rate for all layers
    errors = [0.9, 0.8, 0.8, 0.81, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    lrs, decayed = [], []
    for e in errors:
        decayed.append(sched.step(e))
        lrs.append(opt.param_groups[1]["lr"])
    assert decayed == [False, False, False, True, False, False, True, False, True, False, False, False, False, False]
    assert lrs == pytest.approx([0.01] * 3 + [1e-3] * 3 + [1e-4] * 2 + [1e-5] * 6)
    assert sched.num_decays == 3


def test_warmup_schedule_ramps_linearly_then_holds():
    from alexnet_repro.optim import lr_factor

    assert [lr_factor("warmup:1", s, 4, 3) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert lr_factor("warmup:2", 3, 4, 3) == 0.5
    for bad in ("warmup", "warmup:0", "warmup:x"):
        with pytest.raises(ValueError, match="warmup as 'warmup:1'"):
            lr_factor(bad, 0, 4, 3)
