"""Canonical copies of the helpers that several chapters use.

Every notebook must open standalone in Colab, so it cannot import this file.
Instead `tools/sync.py` writes the helpers a chapter calls, verbatim, into the
chapter's one code cell tagged ``helpers`` (after them, that cell keeps the
chapter's own set-up lines, such as ``device = get_device()``). To change a
helper, edit it here, run ``.venv/bin/python tools/sync.py`` and re-execute the
notebooks it changed; ``tests/test_sync.py`` fails while a copy has drifted.

The module is importable on its own (``tests/test_helpers.py`` unit-tests the
helpers), so it carries its own imports; a chapter's imports cell must provide
the same names (the sync tool says which are missing).
"""

import random

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn


def get_device():
    """Return the CUDA device when one is present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def use_svg_figures():
    """Show each figure as a PNG and as an SVG whose words are text, not outlines.
    The HTML book shows the SVG (its Chinese edition translates those words), the
    PDF the PNG. No date and fixed ids: a re-run stores the same SVG."""
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "module-by-module"})
    set_matplotlib_formats("png", "svg", metadata={"Date": None})


def set_seed(seed=0):
    """Seed Python, NumPy and PyTorch so that a re-run gives the same numbers."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def count_params(model, trainable_only=False):
    """Number of scalar parameters in `model` (each shared tensor counted once)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"count_params needs an nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters()
               if p.requires_grad or not trainable_only)


def load_digits_tensors(size=32, channels=3):
    """scikit-learn's bundled 8x8 digits as tensors, offline.

    Returns ``X`` of shape (1797, channels, size, size) with values in [0, 1]
    (bilinear upsampling of the 8x8 images) and integer labels ``y``.
    """
    from sklearn.datasets import load_digits

    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    digits = load_digits()
    X = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if size != 8:
        X = nn.functional.interpolate(X, size=(size, size), mode="bilinear",
                                      align_corners=False).clamp(0.0, 1.0)
    y = torch.tensor(digits.target, dtype=torch.long)
    return X.repeat(1, channels, 1, 1), y


def digits_loaders(batch_size=64, size=32, channels=3, test_fraction=0.25, seed=0):
    """Stratified train/test DataLoaders over the digits data (shuffled train)."""
    from sklearn.model_selection import train_test_split
    from torch.utils.data import DataLoader, TensorDataset

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    X, y = load_digits_tensors(size=size, channels=channels)
    idx_train, idx_test = train_test_split(
        np.arange(len(y)), test_size=test_fraction, stratify=y.numpy(),
        random_state=seed)
    train = TensorDataset(X[idx_train], y[idx_train])
    test = TensorDataset(X[idx_test], y[idx_test])
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True,
                              generator=generator)
    return train_loader, DataLoader(test, batch_size=512)


def train_epoch(model, loader, loss_fn, optimizer, device):
    """One pass over `loader` in train mode; returns the mean training loss."""
    model.train()
    total, count = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count


@torch.no_grad()
def evaluate(model, loader, loss_fn, device):
    """Mean loss and accuracy (a float in [0, 1]) of `model` over `loader`."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        logits = model(X)
        total += loss_fn(logits, y).item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count
