"""The RSA bench's reference: the same analysis as src/compute/rsa/analysis.ts in numpy/scipy.

python3 bench/rsa_numpy.py <dir> <n_boot> <seed>; <dir> holds brain.npy (n_sel + n, v), layers.npy
(L, n_sel + n, d), rois.json ({name: [voxel, ...]}) and n_sel.txt. Correlation-distance RDMs
(the BLAS form of pdist(..., "correlation"), the faster of the two), Spearman (scipy.stats.spearmanr),
Kendall's tau-a in O(m log m) (scipy.stats.kendalltau's tau-b rescaled by its tie counts), linear
and debiased CKA (Kornblith et al.'s Gram centring); best layer per scope and measure on the
selection stimuli; bootstrap of the scored stimuli at the chosen layers, pairs of copies of one
stimulus dropped (rsatoolbox), and for CKA their Gram entries (cka_resample). Prints one JSON line.
"""
import json
import resource
import sys
import time

import numpy as np
from scipy import stats

d = sys.argv[1]
n_boot = int(sys.argv[2])
seed = int(sys.argv[3])
brain_all = np.load(f"{d}/brain.npy", mmap_mode="r")
layers_all = np.load(f"{d}/layers.npy", mmap_mode="r")
rois = json.load(open(f"{d}/rois.json"))
n_sel = int(open(f"{d}/n_sel.txt").read())
t0 = time.perf_counter()


def corr_rdm(x):
    x = np.asarray(x, dtype=np.float32)
    z = x - x.mean(1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    g = z @ z.T
    iu = np.triu_indices(len(x), 1)
    return (1 - g[iu]).astype(np.float32)


def centred_gram(x):
    x = np.asarray(x, dtype=np.float32)
    x = x - x.mean(0)
    return (x @ x.T).astype(np.float64)


def center(g, unbiased):
    g = g.copy()
    n = g.shape[0]
    if unbiased:
        np.fill_diagonal(g, 0)
        means = g.sum(0) / (n - 2)
        means -= means.sum() / (2 * (n - 1))
        g -= means[:, None]
        g -= means[None, :]
        np.fill_diagonal(g, 0)
    else:
        means = g.mean(0)
        means -= means.mean() / 2
        g -= means[:, None]
        g -= means[None, :]
    return g


def cka(k, l):
    out = {}
    for name, unbiased in (("cka_linear", False), ("cka_debiased", True)):
        a, b = center(k, unbiased), center(l, unbiased)
        out[name] = float((a.ravel() @ b.ravel()) / (np.linalg.norm(a) * np.linalg.norm(b)))
    return out


def cka_resample(k, l, idx):
    """CKA of one resample without the Gram entries pairing a draw with a copy of its stimulus
    (linear: the centred Grams' inner product over the other entries; debiased: Song et al.'s
    U-statistic over 4-tuples of draws of four different stimuli), on the drawn stimuli with their
    draw counts c, by inclusion-exclusion over coinciding stimuli."""
    u, c = np.unique(idx, return_counts=True)
    c = c.astype(np.float64)
    k = k[np.ix_(u, u)].astype(np.float64)
    l = l[np.ix_(u, u)].astype(np.float64)
    s1, s2, s3, s4 = (np.sum(c ** p) for p in (1, 2, 3, 4))

    def linear(a, b):
        p = c / s1
        ac = a - (a @ p)[:, None] - (a @ p)[None, :] + p @ a @ p
        bc = b - (b @ p)[:, None] - (b @ p)[None, :] + p @ b @ p
        w = np.outer(c, c)
        np.fill_diagonal(w, c)
        return float(np.sum(w * ac * bc))

    def unbiased(a, b):
        a = a.copy()
        b = b.copy()
        np.fill_diagonal(a, 0)
        np.fill_diagonal(b, 0)
        h = a * b
        A = lambda p, q: float((c ** p) @ h @ (c ** q))
        ka, lb = a @ c, b @ c
        C = float(c @ (ka * lb)) - A(2, 1)
        Cu = float((c ** 2) @ (ka * lb)) - A(2, 2)
        Cv = float(c @ ((a @ c ** 2) * lb)) - A(3, 1)
        Cq = float(c @ (ka * (b @ c ** 2))) - A(3, 1)
        D = float(c @ ka) * float(c @ lb) - 4 * Cu - 2 * A(2, 2)
        T1 = (s1 * s1 - s2) * A(1, 1) - 4 * s1 * A(2, 1) + 4 * A(3, 1) + 2 * A(2, 2)
        T3 = s1 * C - Cu - Cv - Cq
        tuples = s1 ** 4 - 6 * s1 * s1 * s2 + 3 * s2 * s2 + 8 * s1 * s3 - 6 * s4
        return (T1 + D - 2 * T3) / tuples if tuples > 0 else np.nan

    out = {"cka_linear": linear(k, l) / np.sqrt(linear(k, k) * linear(l, l))}
    kk, ll = unbiased(k, k), unbiased(l, l)
    out["cka_debiased"] = float(unbiased(k, l) / np.sqrt(kk * ll)) if kk > 0 and ll > 0 else float("nan")
    return out


def tau_a(a, b):
    m = len(a)
    n0 = m * (m - 1) / 2
    tb = stats.kendalltau(a, b).correlation
    t1 = sum(c * (c - 1) / 2 for c in np.unique(a, return_counts=True)[1] if c > 1)
    t2 = sum(c * (c - 1) / 2 for c in np.unique(b, return_counts=True)[1] if c > 1)
    return float(tb * np.sqrt((n0 - t1) * (n0 - t2)) / n0)


def compare(b, m):
    out = {"spearman": float(stats.spearmanr(b[0], m[0]).correlation), "kendall_tau_a": tau_a(b[0], m[0])}
    out.update(cka(b[1], m[1]))
    return out


scopes = [("all", None)] + [(f"roi:{k}", np.asarray(v)) for k, v in rois.items()]
measures = ["spearman", "kendall_tau_a", "cka_linear", "cka_debiased"]


def geometry(x, voxels):
    x = np.asarray(x if voxels is None else x[:, voxels])
    return corr_rdm(x), centred_gram(x)


# Selection stimuli: choose the best layer per scope and measure.
sel_brain = [geometry(brain_all[:n_sel], v) for _, v in scopes]
sel_model = [geometry(layers_all[l, :n_sel], None) for l in range(layers_all.shape[0])]
best = {}
for s in range(len(scopes)):
    vals = [compare(sel_brain[s], m) for m in sel_model]
    for me in measures:
        best[(s, me)] = int(np.argmax([v[me] for v in vals]))
del sel_brain, sel_model

brain = [geometry(brain_all[n_sel:], v) for _, v in scopes]
model = [geometry(layers_all[l, n_sel:], None) for l in range(layers_all.shape[0])]
cells = {}
for s in range(len(scopes)):
    for l in range(len(model)):
        cells[(s, l)] = compare(brain[s], model[l])
t_point = time.perf_counter() - t0

# Bootstrap at the chosen layers.
n = brain[0][1].shape[0]
iu = np.triu_indices(n, 1)
pair_index = np.full((n, n), -1, dtype=np.int64)
pair_index[iu] = np.arange(len(iu[0]))
pair_index = np.maximum(pair_index, pair_index.T)
rng = np.random.default_rng(seed)
samples = {k: [] for k in best}
for _ in range(n_boot):
    idx = rng.integers(0, n, n)
    a, b = np.triu_indices(n, 1)
    u, v = idx[a], idx[b]
    keep = u != v
    p = pair_index[u[keep], v[keep]]
    for (s, me), l in best.items():
        if me == "spearman":
            samples[(s, me)].append(stats.spearmanr(brain[s][0][p], model[l][0][p]).correlation)
        elif me == "kendall_tau_a":
            samples[(s, me)].append(tau_a(brain[s][0][p], model[l][0][p]))
    done = set()
    for (s, me), l in best.items():
        if me.startswith("cka") and (s, l) not in done:
            done.add((s, l))
            c = cka_resample(brain[s][1], model[l][1], idx)
            for m2 in ("cka_linear", "cka_debiased"):
                if best[(s, m2)] == l:
                    samples[(s, m2)].append(c[m2])
seconds = time.perf_counter() - t0
ci = {f"{scopes[s][0]}:{me}": [float(np.percentile(samples[(s, me)], 2.5)), float(np.percentile(samples[(s, me)], 97.5))] for (s, me) in best}
print(json.dumps({
    "seconds": seconds,
    "point_seconds": t_point,
    "best": {f"{scopes[s][0]}:{me}": l for (s, me), l in best.items()},
    "values": {f"{scopes[s][0]}:{me}": cells[(s, best[(s, me)])][me] for (s, me) in best},
    "ci": ci,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
