import pytest
import torch

from dljournal.core.project import ProjectError
from dljournal.data import data_identity, load_dataset, sample_function
from dljournal.data.tensors import Normalisation, Split


def test_function_targets():
    s = sample_function("sinc", 5)  # x = -1, -0.5, 0, 0.5, 1
    assert s.x.shape == (5, 1) and s.y.shape == (5, 1)
    assert s.y[2].item() == 1.0  # the limit at 0, not NaN
    assert s.y[3].item() == pytest.approx(torch.sin(torch.tensor(2.5 * torch.pi)).item() / (2.5 * torch.pi), abs=1e-6)
    sign = sample_function("sign", 3, -0.1, 0.1)  # sin(-π/2), sin(0), sin(π/2)
    assert sign.y.squeeze().tolist() == [-1.0, 0.0, 1.0]


def test_synthetic_stand_in_has_the_real_shape_and_classes(tmp_path):
    ds = load_dataset("mnist", data_root=tmp_path, cache=tmp_path, synthetic=True, n_train=100, n_test=40)
    assert ds.synthetic and ds.input_shape == (1, 28, 28) and ds.classes == tuple("0123456789")
    assert len(ds.train) == 100 and len(ds.test) == 40
    assert set(ds.train.y.tolist()) == set(range(10))
    assert "synthetic" in ds.source


def test_shuffled_batches_cover_every_sample_once():
    split = Split(torch.arange(10).float().unsqueeze(1), torch.arange(10))
    seen = torch.cat([y for _, y in split.batches(3, shuffle=True, generator=torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert [len(y) for _, y in split.batches(4)] == [4, 4, 2]


def test_val_split_is_disjoint():
    ds = load_dataset("mnist", data_root=None, cache=None, synthetic=True, n_train=50, n_test=10)
    ds.train.x = torch.arange(50).float().view(50, 1, 1, 1).expand(50, 1, 28, 28).contiguous()
    train, val = ds.val_split(10)
    a, b = set(train.x[:, 0, 0, 0].tolist()), set(val.x[:, 0, 0, 0].tolist())
    assert len(a) == 40 and len(b) == 10 and not a & b


def test_missing_dataset_is_one_clear_line(tmp_path):
    with pytest.raises(ProjectError) as exc:
        load_dataset("mnist", data_root=tmp_path, cache=tmp_path / "c")
    msg = str(exc.value)
    assert "\n" not in msg and str(tmp_path / "MNIST" / "raw") in msg and ".gz" in msg
    with pytest.raises(ProjectError, match="unknown dataset 'cifar11'"):
        load_dataset("cifar11", data_root=tmp_path, cache=tmp_path)


def test_identity_is_remembered(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for n in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ):
        (raw / n).write_bytes(n.encode())
    memo = tmp_path / "memo.json"
    first = data_identity("mnist", data_root=tmp_path, memo=memo)
    assert memo.is_file() and str(raw / "t10k-labels-idx1-ubyte.gz") in memo.read_text()
    assert data_identity("mnist", data_root=tmp_path, memo=memo) == first
    memo.write_text("{ not json")
    assert data_identity("mnist", data_root=tmp_path, memo=memo) == first  # re-hashed, same answer
    assert data_identity("mnist", data_root=tmp_path / "nowhere", memo=memo) == "mnist:missing"


def test_real_mnist(shared_data, tmp_path):
    ds = load_dataset("mnist", data_root=shared_data, cache=tmp_path)
    assert len(ds.train) == 60000 and len(ds.test) == 10000
    assert ds.train.y[0].item() == 5 and ds.test.y[0].item() == 7
    assert ds.train.x.shape == (60000, 1, 28, 28)
    assert abs(ds.train.x.mean().item()) < 1e-3 and abs(ds.train.x.std().item() - 1) < 1e-2
    assert ds.norm == Normalisation((0.1307,), (0.3081,))  # torchvision's MNIST statistics, undone by norm.undo
    (raw,) = tmp_path.glob("MNIST-*/MNIST/raw")  # the extraction is keyed on the files' checksums
    assert not any(p.is_symlink() is False and p.suffix == ".gz" for p in raw.iterdir())
