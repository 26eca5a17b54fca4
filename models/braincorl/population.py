"""Draws fresh subjects from the reference synthetic population (population.json, written by
export_synthetic.ts), with the same distributions as src/compute/synthetic.ts generateSynthetic:

  latent z   = centroid[concept] + spread * N(0, I)            concept uniform over the concepts
  feature x  = z A + featureNoise * N(0, 1)                    (clip backbone, width 512)
  weight w_v = mix @ priorBasis[roi] + scale * N(0, I) / sqrt(L)  (+ preferred-concept bump)
  signal     = (z w_v - mean) / sd                             standardised per voxel
  response   = snr_v * signal + mean of nReps N(0, 1)           snr_v ~ U(snrRange)

The TS generator standardises over the subject's ~10,000 stimuli; here the population mean and SD
of z w_v are used in closed form (the same quantity without its sampling error).
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


class Population:
    def __init__(self, path=os.path.join(HERE, 'population.json')):
        with open(path) as f:
            p = json.load(f)
        self.concepts = p['concepts']
        self.L = p['nLatent']
        self.spread = p['stimulusSpread']
        self.centroids = np.array(p['centroids']).reshape(len(self.concepts), self.L)
        self.width = p['backbone']['width']
        self.A = np.array(p['backbone']['projection']).reshape(self.L, self.width)
        self.feature_noise = p['backbone']['featureNoise']
        self.rois = p['rois']
        self.rank = p['priorRank']
        self.bases = {r['name']: np.array(r['priorBasis']).reshape(self.rank, self.L) for r in self.rois}
        self.specific = p['subjectSpecificScale']
        self.selectivity = p['categorySelectivity']
        self.snr_range = p['snrRange']
        self.n_reps = p['nReps']

    def stimuli(self, rng, n):
        """Latents (n, L) and features (n, width) of n fresh stimuli."""
        c = rng.integers(len(self.concepts), size=n)
        z = self.centroids[c] + self.spread * rng.standard_normal((n, self.L))
        x = z @ self.A + self.feature_noise * rng.standard_normal((n, self.width))
        return z, x

    def subject(self, rng):
        """A fresh subject: latent weights W (L, V), ROI index per voxel, SNR per voxel."""
        cols, roi_of = [], []
        for ri, roi in enumerate(self.rois):
            v = roi['nVoxels']
            mix = rng.standard_normal((v, self.rank))
            w = mix @ self.bases[roi['name']] + self.specific * rng.standard_normal((v, self.L)) / np.sqrt(self.L)
            if roi['preferredConcept'] is not None:
                pc = self.concepts.index(roi['preferredConcept'])
                w[:, pc] += self.selectivity * (0.5 + rng.random(v)) / 2.5
            cols.append(w)
            roi_of += [ri] * v
        W = np.concatenate(cols).T
        snr = self.snr_range[0] + (self.snr_range[1] - self.snr_range[0]) * rng.random(W.shape[1])
        return W, np.array(roi_of), snr

    def signal_moments(self, W):
        """Population mean and SD of z w over stimuli (concepts uniform), per voxel."""
        cw = self.centroids @ W  # (n_concepts, V)
        mean = cw.mean(0)
        var = self.spread ** 2 * (W ** 2).sum(0) + cw.var(0)
        return mean, np.sqrt(var)

    def responses(self, rng, z, W, snr):
        """Repeat-averaged responses (n, V) of a subject to stimuli with latents z."""
        mean, sd = self.signal_moments(W)
        signal = (z @ W - mean) / sd
        noise = rng.standard_normal((self.n_reps,) + signal.shape).mean(0)
        return snr * signal + noise


def unit_rows(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def zscore_context(y):
    """Per-voxel z-score over the context axis (last), ddof 0; returns z, mean, sd."""
    mean = y.mean(-1, keepdims=True)
    sd = y.std(-1, keepdims=True)
    return (y - mean) / np.where(sd > 0, sd, 1), mean, sd
