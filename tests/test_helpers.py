"""The canonical helpers (tools/canonical_helpers.py) do what their docstrings say,
and reject bad arguments with a clear message. The chapters' copies of them are
kept equal by the sync tool (tests/test_sync.py)."""

import pytest
import torch
from torch import nn

import canonical_helpers as ch


def test_set_seed_repeats_and_validates():
    ch.set_seed(3)
    a = torch.rand(3)
    ch.set_seed(3)
    assert torch.equal(a, torch.rand(3))
    for bad in (-1, 1.5, "0", True):
        with pytest.raises(ValueError, match="seed"):
            ch.set_seed(bad)


def test_count_params():
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    assert ch.count_params(model) == 4 * 3 + 3 + 3 * 2 + 2
    model[0].requires_grad_(False)
    assert ch.count_params(model, trainable_only=True) == 3 * 2 + 2
    shared = nn.Linear(2, 2)
    assert ch.count_params(nn.Sequential(shared, shared)) == 6
    with pytest.raises(TypeError, match="nn.Module"):
        ch.count_params([1, 2])


def test_load_digits_tensors():
    X, y = ch.load_digits_tensors()
    assert X.shape == (1797, 3, 32, 32) and y.shape == (1797,)
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert torch.equal(X[:, 0], X[:, 2])
    X8, _ = ch.load_digits_tensors(size=8, channels=1)
    assert X8.shape == (1797, 1, 8, 8)
    with pytest.raises(ValueError, match="channels"):
        ch.load_digits_tensors(channels=2)
    with pytest.raises(ValueError, match="size"):
        ch.load_digits_tensors(size=4)


def test_digits_loaders_are_stratified_and_disjoint():
    train, test = ch.digits_loaders(batch_size=100, size=8, channels=1)
    assert len(train.dataset) + len(test.dataset) == 1797
    y_test = test.dataset.tensors[1]
    counts = torch.bincount(y_test, minlength=10)
    assert counts.min() >= 40, "every class is represented in the test split"
    with pytest.raises(ValueError, match="test_fraction"):
        ch.digits_loaders(test_fraction=1.0)


def test_train_epoch_and_evaluate_learn_something():
    ch.set_seed(0)
    train, test = ch.digits_loaders(batch_size=64, size=8, channels=1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    _, acc_before = ch.evaluate(model, test, loss_fn, "cpu")
    losses = [ch.train_epoch(model, train, loss_fn, optimizer, "cpu") for _ in range(3)]
    loss_after, acc_after = ch.evaluate(model, test, loss_fn, "cpu")
    assert losses[-1] < losses[0]
    assert acc_after > 0.85 > acc_before
    assert not model.training, "evaluate leaves the model in eval mode"
