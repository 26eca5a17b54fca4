#!/usr/bin/python3
"""NSD-sized session files for `npm run bench -- nsd-import`, and the reference side.

    /usr/bin/python3 bench/nsd_sessions.py write DIR SESSIONS TRIALS X Y Z VOXELS
    /usr/bin/python3 bench/nsd_sessions.py reference DIR SESSIONS

write: mask.nii.gz (an ellipsoid of about VOXELS voxels in an X x Y x Z grid, nibabel), for each
session s betas_session{s:02d}.hdf5 with /betas int16 (percent signal change x 300) in h5py's
order TRIALS x Z x Y x X chunked per voxel across trials, as NSD ships them (h5py), and
design_session{s:02d}.json (the externalId of each trial: every image shown SESSIONS times over
the sessions, in random order). Prints {"voxels", "stimuli", "bytes"}.

reference: what a lab's script does with the same files: h5py reads each session's betas, masks
them to the mask's voxels (np.nonzero order), z-scores each voxel within the session (scipy's
ddof 0), and groups the presentations of each image into [n_repeats, n_stimuli, n_voxels]
float32. Prints {"seconds", "peak_rss_mb", "checksum"}.
"""
import json
import os
import resource
import sys
import time

import h5py
import nibabel as nib
import numpy as np


def write(out, sessions, trials, X, Y, Z, voxels):
    rng = np.random.default_rng(0)
    ii, jj, kk = np.meshgrid(np.arange(X), np.arange(Y), np.arange(Z), indexing='ij')
    c = np.array([X, Y, Z]) / 2
    d = ((ii - c[0]) / X) ** 2 + ((jj - c[1]) / Y) ** 2 + ((kk - c[2]) / Z) ** 2
    # The ellipsoid's radius fraction that selects about `voxels` voxels.
    r = np.sort(d.ravel())[min(voxels, d.size) - 1]
    mask = (d <= r).astype(np.uint8)
    affine = np.diag([1.8, 1.8, 1.8, 1.0])
    affine[:3, 3] = -np.array([X, Y, Z]) * 0.9
    nib.save(nib.Nifti1Image(mask, affine), os.path.join(out, 'mask.nii.gz'))
    n_stimuli = trials  # each image once per session on average: SESSIONS presentations in all
    order = rng.permutation(np.repeat(np.arange(n_stimuli), sessions))
    total = 0
    for s in range(sessions):
        design = [f'img-{i}' for i in order[s * trials:(s + 1) * trials]]
        with open(os.path.join(out, f'design_session{s + 1:02d}.json'), 'w') as f:
            json.dump(design, f)
        path = os.path.join(out, f'betas_session{s + 1:02d}.hdf5')
        with h5py.File(path, 'w') as f:
            ds = f.create_dataset('betas', shape=(trials, Z, Y, X), dtype='<i2', chunks=(trials, 1, 1, 1))
            for z in range(Z):  # one z plane at a time keeps the writer's memory small
                ds[:, z] = rng.integers(-1500, 1500, size=(trials, Y, X), dtype=np.int16)
        total += os.path.getsize(path)
    print(json.dumps({'voxels': int(mask.sum()), 'stimuli': n_stimuli, 'bytes': total}))


def reference(out, sessions):
    start = time.perf_counter()
    mask = np.asarray(nib.load(os.path.join(out, 'mask.nii.gz')).dataobj) > 0
    ijk = np.nonzero(mask)
    designs = [json.load(open(os.path.join(out, f'design_session{s + 1:02d}.json'))) for s in range(sessions)]
    stimuli = sorted({x for d in designs for x in d}, key=lambda x: int(x.split('-')[1]))
    row = {x: i for i, x in enumerate(stimuli)}
    counts = np.zeros(len(stimuli), int)
    for d in designs:
        for x in d:
            counts[row[x]] += 1
    R = int(np.bincount(counts).argmax())
    out_arr = np.zeros((R, len(stimuli), len(ijk[0])), np.float32)
    used = np.zeros(len(stimuli), int)
    for s in range(sessions):
        with h5py.File(os.path.join(out, f'betas_session{s + 1:02d}.hdf5'), 'r') as f:
            betas = f['betas'][()]  # (T, Z, Y, X)
        b = betas[:, ijk[2], ijk[1], ijk[0]].astype(np.float64) / 300
        del betas
        b = (b - b.mean(0)) / b.std(0)
        for t, x in enumerate(designs[s]):
            i = row[x]
            if used[i] < R:
                out_arr[used[i], i] = b[t]
                used[i] += 1
    seconds = time.perf_counter() - start
    print(json.dumps({'seconds': seconds, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      'checksum': float(np.abs(out_arr).sum(dtype=np.float64)), 'first': out_arr[:, 0, :3].tolist()}))


if __name__ == '__main__':
    if sys.argv[1] == 'write':
        write(sys.argv[2], *map(int, sys.argv[3:9]))
    else:
        reference(sys.argv[2], int(sys.argv[3]))
