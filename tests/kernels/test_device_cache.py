"""DeviceCache: a copy per device/dtype, made once, refreshed when the source changes."""

import copy
import pickle

import torch

from sciml.kernels import DeviceCache
from tests.helpers.devices import device_copies


def test_same_device_and_dtype_returns_the_source_itself():
    src = torch.arange(6.0)
    assert DeviceCache().get(src, src.device) is src


def test_a_copy_is_made_once_and_equals_the_conversion():
    src = torch.rand(4, 5, dtype=torch.float64)
    cache = DeviceCache()
    first = cache.get(src, "cpu", torch.float32)
    assert first.dtype == torch.float32
    torch.testing.assert_close(first, src.to(torch.float32), rtol=0, atol=0)
    assert cache.get(src, "cpu", torch.float32) is first


def test_host_to_device_copy_happens_once_over_many_calls():
    src = torch.rand(3, 7)
    cache = DeviceCache()
    with device_copies() as log:
        outs = [cache.get(src, torch.device("meta")) for _ in range(5)]
    assert log == [("cpu", "meta", (3, 7))]
    assert all(o is outs[0] for o in outs) and outs[0].device.type == "meta"


def test_in_place_change_of_the_source_is_seen():
    src = torch.zeros(3, dtype=torch.float64)
    cache = DeviceCache()
    cache.get(src, "cpu", torch.float32)
    src.add_(2.5)
    torch.testing.assert_close(cache.get(src, "cpu", torch.float32), torch.full((3,), 2.5))


def test_a_new_source_replaces_the_old_copy():
    a, b = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    cache = DeviceCache()
    cache.get(a, "cpu", torch.float32)
    torch.testing.assert_close(cache.get(b, "cpu", torch.float32), torch.ones(2))
    assert len(cache._copies) == 1  # one copy per device and dtype, not one per tensor seen


def test_sources_that_require_grad_keep_their_graph():
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    cache = DeviceCache()
    (cache.get(w, "cpu", torch.float32) * torch.tensor([4.0, 5.0, 6.0])).sum().backward()
    torch.testing.assert_close(w.grad, torch.tensor([4.0, 5.0, 6.0], dtype=torch.float64))
    assert not cache._copies


def test_pickled_and_copied_caches_are_empty():
    src = torch.rand(3, dtype=torch.float64)
    cache = DeviceCache()
    cache.get(src, "cpu", torch.float32)
    for other in (pickle.loads(pickle.dumps(cache)), copy.deepcopy(cache)):
        assert not other._copies
        torch.testing.assert_close(other.get(src, "cpu", torch.float32), src.float())
    cache.clear()
    assert not cache._copies


def test_inference_mode_sources_are_converted_on_every_call():
    """Inference tensors have no version counter, so an in-place change could not be seen:
    they are not cached."""
    with torch.inference_mode():
        src = torch.zeros(3, dtype=torch.float64)
    cache = DeviceCache()
    torch.testing.assert_close(cache.get(src, "cpu", torch.float32), torch.zeros(3))
    with torch.inference_mode():
        src.add_(1.5)
    torch.testing.assert_close(cache.get(src, "cpu", torch.float32), torch.full((3,), 1.5))
