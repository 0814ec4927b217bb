"""The RED-PSM tests run many tiny tensor operations: one intra-op thread avoids thread
synchronisation overhead on a loaded machine (restored after each test)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
