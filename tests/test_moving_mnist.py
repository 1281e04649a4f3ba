"""Moving MNIST generated from digits: bouncing in closed form, pasting by maximum, determinism."""

import pytest
import torch

from dljournal.data.moving_mnist import bounce, moving_mnist, paste_max


def test_bounce_reflects_off_both_walls():
    p = torch.tensor([0.0, 3, 5, 7, 10, 12, -2, 21])
    assert bounce(p, 5).tolist() == [0, 3, 5, 3, 0, 2, 2, 1]
    assert bounce(p, 0).tolist() == [0] * 8  # an object as wide as the canvas cannot move


def test_paste_combines_overlaps_by_maximum():
    images = torch.tensor([0.3, 0.7]).view(1, 1, 2, 1, 1).expand(1, 1, 2, 2, 2)  # two 2×2 squares
    corners = torch.tensor([[[[0, 0], [1, 1]]]])  # (n, T, k, 2): they overlap in pixel (1, 1)
    canvas = paste_max(4, images, corners)[0, 0]
    expected = torch.tensor([[0.3, 0.3, 0, 0], [0.3, 0.7, 0.7, 0], [0, 0.7, 0.7, 0], [0, 0, 0, 0]])
    assert torch.allclose(canvas, expected)


def test_shapes_range_and_determinism():
    digits = torch.rand(10, 1, 28, 28)
    a = moving_mnist(digits, 5, 7, seed=3)
    assert a.shape == (5, 7, 1, 64, 64) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, moving_mnist(digits, 5, 7, seed=3))
    assert not torch.equal(a, moving_mnist(digits, 5, 7, seed=4))
    assert torch.equal(a, moving_mnist(digits, 5, 7, seed=3, chunk=2))  # chunking changes nothing


def test_a_single_digit_moves_whole_and_at_the_given_speed():
    block = torch.ones(1, 1, 6, 6)  # one "digit": a 6×6 white square on a 20×20 canvas
    seqs = moving_mnist(block, n=8, seq_len=12, size=20, digits_per_seq=1, speed=2.0, seed=0)[:, :, 0]
    assert torch.equal(seqs.sum((2, 3)), torch.full((8, 12), 36.0))  # never clipped, never doubled
    rows = seqs.amax(3).argmax(2)  # first lit row of each frame: the square's top edge, (8, 12)
    cols = seqs.amax(2).argmax(2)
    assert rows.max() <= 14 and cols.max() <= 14
    step = torch.maximum((rows[:, 1:] - rows[:, :-1]).abs(), (cols[:, 1:] - cols[:, :-1]).abs())
    assert step.max() <= 3  # 2 px per frame, plus rounding
    assert (step > 0).float().mean() > 0.5  # and it does move


def test_digits_larger_than_the_canvas_are_refused():
    with pytest.raises(ValueError, match="do not fit"):
        moving_mnist(torch.rand(2, 1, 28, 28), 1, 2, size=20)
