"""From torch's printing tests (test_torch.py, _tensor_str.py) and a repr fuzz against torch 2.13:
set_printoptions edge cases, finfo / iinfo reprs, the version string, soft_margin_loss's target."""
import pytest
torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402


@pytest.fixture(autouse=True)
def _reset_printoptions():
    yield
    torch.set_printoptions(profile="default")
    ts.set_printoptions(profile="default")


# 1. __version__ -------------------------------------------------------------------------------
def test_version_string_compares_like_torch():
    # torch.__version__ is a TorchVersion ('2.13.0+cpu'): version-gated code takes the new branch
    assert torch.__version__ >= "1.6" and torch.__version__ >= (1, 6)
    assert ts.__version__ >= "1.6"
    assert ts.__version__ >= (1, 6)          # TypeError on a plain str
    assert not ts.__version__ < "2.0"


def test_version_major_minor_parse():
    major, minor = (int(p) for p in ts.__version__.split("+")[0].split(".")[:2])
    assert (major, minor) >= (2, 0)


# 2. set_printoptions(profile=<unknown>) ----------------------------------------------------------
def test_set_printoptions_unknown_profile_is_ignored():
    torch.set_printoptions(profile="bogus")           # torch: silently ignored
    ts.set_printoptions(profile="bogus")              # ours: ValueError
    assert repr(ts.tensor([1.123456])) == repr(torch.tensor([1.123456])) == "tensor([1.1235])"


# 3. edgeitems=0 and an empty 1-D tensor ---------------------------------------------------------
def test_edgeitems_zero_empty_vector_has_no_size_suffix():
    torch.set_printoptions(edgeitems=0)
    ts.set_printoptions(edgeitems=0)
    assert repr(torch.zeros(0)) == "tensor([])"
    assert repr(ts.zeros(0)) == "tensor([])"


# 4. float linewidth ------------------------------------------------------------------------------
def test_float_linewidth_accepted():
    torch.set_printoptions(linewidth=30.0)
    ts.set_printoptions(linewidth=30.0)
    assert repr(ts.arange(30)) == repr(torch.arange(30))


# 5. finfo / iinfo repr --------------------------------------------------------------------------
def test_finfo_repr():
    assert repr(ts.finfo(ts.float32)) == repr(torch.finfo(torch.float32))
    assert repr(ts.finfo(ts.float64)) == repr(torch.finfo(torch.float64))


def test_iinfo_repr():
    assert repr(ts.iinfo(ts.int32)) == repr(torch.iinfo(torch.int32))
    assert repr(ts.iinfo(ts.int64)) == repr(torch.iinfo(torch.int64))


# 7. soft_margin_loss with a target that requires grad ------------------------------------------
def test_soft_margin_loss_target_requires_grad_raises():
    for T in (torch, ts):
        x = T.tensor([[0.5, -1.0]], requires_grad=True)
        y = T.tensor([[1.0, -1.0]], requires_grad=True)
        with pytest.raises(RuntimeError):
            T.nn.functional.soft_margin_loss(x, y)
