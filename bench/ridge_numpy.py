#!/usr/bin/python3
"""The same CV ridge algorithm as src/compute/ridge.ts, in numpy (float32 products, float64 Grams
and decompositions, per-fold Gram downdates, triangular quadratic term), for `npm run bench -- ridge`.

    /usr/bin/python3 bench/ridge_numpy.py DIR ALPHAS FOLDS VOXEL_BATCH BLOCK_ROWS [same|himalaya]

`himalaya` runs himalaya's own formulation instead (per fold: float32 SVD of the training
features, resolution matrices (n_alphas, d, n_train), predictions Xval @ matrices @ Ytrain for
every alpha; refit by SVD): the same results at far more arithmetic, for the scaling comparison.

DIR holds X.npy (n, d), Y.npy (n, v), Xtest.npy, Ytest.npy (float32). Prints one JSON line with the
wall time of fit + test prediction + per-voxel r, the mean test r and the chosen-alpha histogram,
so the two implementations can be checked against each other as well as timed.
"""
import json
import resource
import sys
import time

import numpy as np
import scipy.linalg


def ridge_cv(X, Y, alphas, n_folds, voxel_batch, block_rows):
    n, d = X.shape
    v = Y.shape[1]
    na = len(alphas)
    sizes = [n // n_folds + (1 if f < n % n_folds else 0) for f in range(n_folds)]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    X64 = X.astype(np.float64)
    k_val = [X64[starts[f]:starts[f + 1]].T @ X64[starts[f]:starts[f + 1]] for f in range(n_folds)]
    k_tot = sum(k_val)
    plans = []
    for f in range(n_folds):
        s2, V = np.linalg.eigh(k_tot - k_val[f])
        keep = s2 > 1e-12 * s2[-1]
        s2, V = s2[keep], V[:, keep]
        G = V.T @ k_val[f] @ V
        R, piv, rank, _ = scipy.linalg.lapack.dpstrf(G, lower=0)  # pivoted Cholesky
        R = np.triu(R)[:rank]
        piv = piv - 1
        V, s2 = V[:, piv], s2[piv]
        w = 1.0 / (s2[None, :] + alphas[:, None])  # (na, r)
        r = len(s2)
        blocks = []
        for r0 in range(0, rank, block_rows):
            rb = min(block_rows, rank - r0)
            RW = (R[None, r0:r0 + rb, r0:] * w[:, None, r0:]).reshape(na * rb, r - r0)
            blocks.append((r0, rb, RW.astype(np.float32)))
        plans.append(dict(Vt=V.T.astype(np.float32), w=w.astype(np.float32), blocks=blocks, size=sizes[f]))
    s2_all, V_all = np.linalg.eigh(k_tot)
    keep = s2_all > 1e-12 * s2_all[-1]
    s2_all, V_all = s2_all[keep], V_all[:, keep].astype(np.float32)
    W = np.zeros((d, v), np.float32)
    best = np.zeros(v, np.int64)
    tie = np.log(alphas) * 1e-10
    for c0 in range(0, v, voxel_batch):
        Yb = Y[:, c0:c0 + voxel_batch]
        vb = Yb.shape[1]
        z_fold = [X[starts[f]:starts[f + 1]].T @ Yb[starts[f]:starts[f + 1]] for f in range(n_folds)]
        z_tot = sum(z_fold)
        score_sum = np.zeros((na, vb))
        for f, p in enumerate(plans):
            yv = Yb[starts[f]:starts[f + 1]].astype(np.float64)
            B = p['Vt'] @ (z_tot - z_fold[f])
            C = p['Vt'] @ z_fold[f]
            cross = p['w'] @ (C * B)
            quad = np.zeros((na, vb), np.float32)
            for r0, rb, RW in p['blocks']:
                M = (RW @ B[r0:]).reshape(na, rb, vb)
                quad += np.einsum('ijk,ijk->ik', M, M)
            yy = (yv ** 2).sum(0)
            ss_tot = yy - yv.sum(0) ** 2 / p['size']
            sse = np.maximum(yy - 2 * cross + quad, 0)
            score_sum += 1 - sse / np.where(ss_tot > 0, ss_tot, np.inf)
        best[c0:c0 + vb] = np.argmax(score_sum / n_folds + tie[:, None], 0)
        B0 = V_all.T @ z_tot
        D = (1.0 / (s2_all[:, None] + alphas[best[c0:c0 + vb]][None, :])).astype(np.float32)
        W[:, c0:c0 + vb] = V_all @ (B0 * D)
    return W, best


def ridge_cv_himalaya(X, Y, alphas, n_folds, voxel_batch):
    n, d = X.shape
    v = Y.shape[1]
    sizes = [n // n_folds + (1 if f < n % n_folds else 0) for f in range(n_folds)]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    scores = np.zeros((n_folds, len(alphas), v))
    a32 = alphas.astype(np.float32)
    for f in range(n_folds):
        val = np.arange(starts[f], starts[f + 1])
        train = np.setdiff1d(np.arange(n), val)
        U, s, Vt = np.linalg.svd(X[train], full_matrices=False)
        matrices = Vt.T @ ((s / (a32[:, None] + s ** 2))[:, :, None] * U.T)
        matrix = X[val] @ matrices
        for c0 in range(0, v, voxel_batch):
            yv = Y[val, c0:c0 + voxel_batch]
            pred = matrix @ Y[train, c0:c0 + voxel_batch]
            err = ((yv - pred) ** 2).sum(1)
            var = ((yv - yv.mean(0)) ** 2).sum(0)
            scores[f, :, c0:c0 + voxel_batch] = 1 - err / var
    best = np.argmax(scores.mean(0) + (np.log(alphas) * 1e-10)[:, None], 0)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    W = np.zeros((d, v), np.float32)
    for a in np.unique(best):
        cols = best == a
        W[:, cols] = Vt.T @ ((s / (s ** 2 + a32[a]))[:, None] * (U.T @ Y[:, cols]))
    return W, best


def main():
    folder, alphas, n_folds, voxel_batch, block_rows = sys.argv[1:6]
    variant = sys.argv[6] if len(sys.argv) > 6 else 'same'

    alphas = np.array([float(a) for a in alphas.split(',')])
    X = np.load(f'{folder}/X.npy')
    Y = np.load(f'{folder}/Y.npy')
    Xt = np.load(f'{folder}/Xtest.npy')
    Yt = np.load(f'{folder}/Ytest.npy')
    t0 = time.perf_counter()
    if variant == 'himalaya':
        W, best = ridge_cv_himalaya(X, Y, alphas, int(n_folds), int(voxel_batch))
    else:
        W, best = ridge_cv(X, Y, alphas, int(n_folds), int(voxel_batch), int(block_rows))
    pred = Xt @ W
    pc = pred - pred.mean(0)
    yc = Yt - Yt.mean(0)
    r = (pc * yc).sum(0) / np.sqrt((pc ** 2).sum(0) * (yc ** 2).sum(0))
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(seconds=seconds, mean_r=float(np.nanmean(r)), peak_rss_mb=peak,
                          alpha_counts=np.bincount(best, minlength=len(alphas)).tolist())))


if __name__ == '__main__':
    main()
