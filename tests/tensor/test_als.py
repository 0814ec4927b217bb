"""ALS baselines on a binned grid recover exactly low-rank grid tensors with missing cells."""

import torch

from sciml.tensor import CPALS, TuckerALS


def _grid_data(n_bins, fn, frac=0.6, seed=0):
    g = torch.Generator().manual_seed(seed)
    grids = torch.meshgrid(*[torch.arange(n, dtype=torch.float64) for n in n_bins], indexing="ij")
    X = torch.stack([gr.reshape(-1) for gr in grids], -1)
    # cell centres in [0, 1): binning with n_bins over the observed range recovers the cells
    X = (X + 0.5) / torch.tensor(n_bins, dtype=torch.float64)
    keep = torch.rand(X.shape[0], generator=g) < frac
    keep[:: max(1, X.shape[0] // 50)] = True
    Xo = X[keep]
    # include both ends of every mode so the bins line up with the cells
    ends = torch.stack([X.min(0).values, X.max(0).values])
    Xo = torch.cat([Xo, ends])
    return Xo, fn(Xo), X, fn(X)


def test_tucker_als_recovers_grid_tensor_and_grid_matches_einsum():
    g = torch.Generator().manual_seed(1)
    W = torch.randn(2, 3, 2, generator=g, dtype=torch.float64)
    A = [torch.randn(n, r, generator=g, dtype=torch.float64) for n, r in zip((6, 7, 5), (2, 3, 2))]

    def fn(X):
        idx = [torch.floor(X[:, k] * n).long() for k, n in enumerate((6, 7, 5))]
        return torch.einsum("abc,na,nb,nc->n", W, *[A[k][idx[k]] for k in range(3)])

    Xo, yo, X, y = _grid_data((6, 7, 5), fn)
    m = TuckerALS((2, 3, 2), n_bins=(6, 7, 5), n_iter=100, reg=1e-9).fit(Xo, yo)
    assert m.rmse(X, y) < 1e-4 * float(y.std())
    ref = torch.einsum("abc,ia,jb,kc->ijk", m.W, *m.U)
    assert torch.allclose(m.grid(), ref, atol=1e-12)


def test_cp_als_recovers_rank2():
    g = torch.Generator().manual_seed(2)
    A = [torch.randn(n, 2, generator=g, dtype=torch.float64) for n in (8, 9)]

    def fn(X):
        i = torch.floor(X[:, 0] * 8).long()
        j = torch.floor(X[:, 1] * 9).long()
        return (A[0][i] * A[1][j]).sum(-1)

    Xo, yo, X, y = _grid_data((8, 9), fn, frac=0.7)
    m = CPALS(2, n_bins=(8, 9), n_iter=200, reg=1e-9).fit(Xo, yo)
    assert m.rmse(X, y) < 1e-4 * float(y.std())
