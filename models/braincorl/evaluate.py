"""Held-out evaluation shared by training and the fixtures: the in-context encoder against ridge
fit on the same k in-context images, explained variance (1 - Var(y - yhat) / Var(y), as BraInCoRL)
on held-out images, per voxel, on the raw response scale."""
import numpy as np
import torch

from population import unit_rows, zscore_context

ALPHAS = np.logspace(-3, 5, 9)


def explained_variance(y, yhat):
    """y, yhat: (n, V) -> (V,)"""
    return 1 - (y - yhat).var(0) / y.var(0)


def ridge_cv(X, Y, alphas=ALPHAS, folds=5):
    """Per-voxel alpha by K contiguous folds (best mean validation R^2), then a refit on all rows,
    with an intercept (himalaya solve_ridge_cv_svd style). X (n, d), Y (n, V) -> (coef (d, V), b (V,))."""
    n = X.shape[0]
    folds = min(folds, n)
    edges = np.linspace(0, n, folds + 1).astype(int)
    score = np.zeros((len(alphas), Y.shape[1]))
    for f in range(folds):
        val = np.arange(edges[f], edges[f + 1])
        tr = np.setdiff1d(np.arange(n), val)
        if len(val) == 0 or len(tr) < 2:
            continue
        coefs = _ridge_svd(X[tr], Y[tr], alphas)
        for a, (c, b) in enumerate(coefs):
            resid = Y[val] - (X[val] @ c + b)
            tot = ((Y[val] - Y[val].mean(0)) ** 2).sum(0)
            score[a] += 1 - (resid ** 2).sum(0) / np.where(tot > 0, tot, 1)
    best = score.argmax(0)
    coef = np.zeros((X.shape[1], Y.shape[1]))
    bias = np.zeros(Y.shape[1])
    for a, (c, b) in enumerate(_ridge_svd(X, Y, alphas)):
        coef[:, best == a] = c[:, best == a]
        bias[best == a] = b[best == a]
    return coef, bias


def _ridge_svd(X, Y, alphas):
    mx, my = X.mean(0), Y.mean(0)
    U, s, Vt = np.linalg.svd(X - mx, full_matrices=False)
    UtY = U.T @ (Y - my)
    out = []
    for alpha in alphas:
        c = Vt.T @ ((s / (s ** 2 + alpha))[:, None] * UtY)
        out.append((c, my - mx @ c))
    return out


@torch.no_grad()
def encoder_predict(model, x_ctx, y_ctx, x_query, batch=512):
    """The contract's caller: unit-norm features, per-voxel z-scored context responses, weights
    mapped back to the raw scale. x_ctx (k, E), y_ctx (k, V), x_query (n, E) -> (n, V)."""
    device = next(model.parameters()).device
    xu = torch.tensor(unit_rows(x_ctx), dtype=torch.float32, device=device)
    z, mean, sd = zscore_context(y_ctx.T)  # (V, k)
    qu = unit_rows(x_query)
    preds = []
    for i in range(0, z.shape[0], batch):
        zb = torch.tensor(z[i : i + batch], dtype=torch.float32, device=device)
        w = model(xu.expand(zb.shape[0], -1, -1), zb).double().cpu().numpy()
        preds.append(qu @ w[:, :-1].T + w[:, -1])
    pred = np.concatenate(preds, axis=1)
    sd = sd[:, 0]
    return np.where(sd > 0, pred * sd + mean[:, 0], mean[:, 0])


def compare(model, subjects, ks, repeats=1, seed=0):
    """subjects: list of (x_pool (n, E), y_pool (n, V), x_test, y_test). Mean EV over voxels and
    subjects per k, for the encoder and for ridge on the same context images."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in ks:
        enc, rid = [], []
        for x_pool, y_pool, x_test, y_test in subjects:
            for _ in range(repeats):
                idx = rng.choice(x_pool.shape[0], k, replace=False)
                p = encoder_predict(model, x_pool[idx], y_pool[idx], x_test)
                enc.append(explained_variance(y_test, p).mean())
                c, b = ridge_cv(x_pool[idx], y_pool[idx])
                rid.append(explained_variance(y_test, x_test @ c + b).mean())
        rows.append((k, float(np.mean(enc)), float(np.mean(rid))))
    return rows
