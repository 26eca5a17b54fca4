"""Meta-trains the in-context encoder on fresh subjects drawn from the reference synthetic population
(population.py); held-out subjects come from a separate seed and are never trained on.

  python3 models/braincorl/train.py --device cuda --max-minutes 6 --out DIR   (README.md: the run behind reference.pt)

Per step: a few fresh subjects, a context size S ~ U[min, max] shared by the batch, S + Q images per
subject, B voxels; inputs normalised as the ONNX contract says (unit-norm image rows, responses
z-scored per voxel over the context, ddof 0); MSE on the Q query responses in the same z units.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import compare  # noqa: E402
from model import CONFIGS, build  # noqa: E402
from population import Population, unit_rows, zscore_context  # noqa: E402


def batch(pop, rng, n_subjects, voxels_per_subject, S, Q, device):
    """Images are drawn once per subject and shared by its voxels: (img [n, S, E], nrn [n*V, S],
    q_img [n, Q, E], q_target [n*V, Q]); expand() gives the per-voxel view without copies."""
    imgs, nrns, q_imgs, q_targets = [], [], [], []
    for _ in range(n_subjects):
        W, _, snr = pop.subject(rng)
        pick = rng.choice(W.shape[1], voxels_per_subject, replace=False)
        z, x = pop.stimuli(rng, S + Q)
        y = pop.responses(rng, z, W[:, pick], snr[pick]).T  # (V, S + Q)
        xu = unit_rows(x)
        yc, mean, sd = zscore_context(y[:, :S])
        imgs.append(xu[:S])
        nrns.append(yc)
        q_imgs.append(xu[S:])
        q_targets.append((y[:, S:] - mean) / sd)
    tensor = lambda a: torch.tensor(a, dtype=torch.float32, device=device)
    per_voxel = lambda a: tensor(np.stack(a)).unsqueeze(1).expand(-1, voxels_per_subject, -1, -1).reshape(-1, *a[0].shape)
    return per_voxel(imgs), tensor(np.concatenate(nrns)), per_voxel(q_imgs), tensor(np.concatenate(q_targets))


def held_out_subjects(pop, n_subjects, n_voxels, seed, n_pool=600, n_test=500):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_subjects):
        W, _, snr = pop.subject(rng)
        pick = rng.choice(W.shape[1], n_voxels, replace=False)
        z, x = pop.stimuli(rng, n_pool + n_test)
        y = pop.responses(rng, z, W[:, pick], snr[pick])
        out.append((x[:n_pool], y[:n_pool], x[n_pool:], y[n_pool:]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default='reference', choices=sorted(CONFIGS))
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument('--subjects-per-step', type=int, default=2)
    ap.add_argument('--voxels-per-subject', type=int, default=16)
    ap.add_argument('--min-context', type=int, default=10)
    ap.add_argument('--max-context', type=int, default=500)
    ap.add_argument('--queries', type=int, default=100)
    ap.add_argument('--lr', type=float, default=5e-4)
    ap.add_argument('--weight-decay', type=float, default=0.1)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--eval-every', type=int, default=500)
    ap.add_argument('--eval-voxels', type=int, default=200)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--max-minutes', type=float, default=0, help='stop after this long (0: no limit); the schedule follows whichever runs out first')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = torch.device(args.device)
    pop = Population()
    model = build(args.config).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    t0 = time.time()

    def progress(step):
        p = step / args.steps
        return min(1.0, max(p, (time.time() - t0) / (60 * args.max_minutes)) if args.max_minutes > 0 else p)

    # Linear warm-up, then cosine decay to a tenth of the peak rate.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress(s)))))
    # Held-out subjects: a seed stream the training stream never uses.
    held_out = held_out_subjects(pop, 2, args.eval_voxels, seed=10_000 + args.seed)

    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, 'training-log.txt'), 'w')

    def say(line):
        print(line, flush=True)
        log.write(line + '\n')
        log.flush()

    say(f'config {args.config} {CONFIGS[args.config]} params {sum(p.numel() for p in model.parameters())}')
    say(f'args {vars(args)} torch {torch.__version__}')

    def evaluate(step):
        model.eval()
        rows = compare(model, held_out, [10, 25, 50, 100])
        model.train()
        say(f'eval step {step} held-out EV (encoder / ridge): ' + '  '.join(f'k={k} {e:.4f}/{r:.4f}' for k, e, r in rows))

    running = None
    step = 0
    while step < args.steps:
        step += 1
        last = step == args.steps or progress(step) >= 1
        S = int(rng.integers(args.min_context, args.max_context + 1))
        img, nrn, q_img, q_y = batch(pop, rng, args.subjects_per_step, args.voxels_per_subject, S, args.queries, device)
        w = model(img, nrn)
        pred = torch.matmul(q_img, w[:, :-1].unsqueeze(-1)).squeeze(-1) + w[:, -1:]
        loss = torch.nn.functional.mse_loss(pred, q_y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 25 == 0 or step == 1:
            say(f'step {step} S {S} loss {loss.item():.4f} smoothed {running:.4f} lr {sched.get_last_lr()[0]:.2e} elapsed {time.time() - t0:.0f}s')
        if step % args.eval_every == 0 or last:
            evaluate(step)
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, os.path.join(args.out, 'reference.pt'))
        if last:
            break
    say(f'done {step} steps in {time.time() - t0:.0f}s')


if __name__ == '__main__':
    main()
