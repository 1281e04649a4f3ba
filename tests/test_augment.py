import torch

from dljournal.data.augment import Augment, hflip, random_crop, random_flip


def batch(n=6):
    return torch.arange(n * 3 * 8 * 8, dtype=torch.float32).view(n, 3, 8, 8)


def test_flip_is_an_involution_and_random_flip_mixes():
    x = batch()
    assert torch.equal(hflip(hflip(x)), x) and not torch.equal(hflip(x), x)
    out = random_flip(x, torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, hflip(i[None])[0]) for o, i in zip(out, x)]
    kept = [torch.equal(o, i) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_crop_keeps_content():
    x = batch()
    out = random_crop(x, 2, torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for o, p in zip(out, padded):  # every output is a window of its own padded image
        assert any(torch.equal(o, p[:, dy : dy + 8, dx : dx + 8]) for dy in range(5) for dx in range(5))
    assert torch.equal(random_crop(x, 0, torch.Generator()), x)
    assert not all(torch.equal(o, i) for o, i in zip(out, x))  # some images moved


def test_augment_is_seeded():
    x = batch()
    a = Augment()(x, torch.Generator().manual_seed(3))
    b = Augment()(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == x.shape
