// Experiment design tables (which stimulus each trial of a session showed) and the rule that turns
// repeated presentations into the [n_repeats, n_stimuli, n_voxels] layout. Pure: no database, so
// the mutation (checks before queueing) and the import job (the plan it follows) share it.
//
// The repeat rule: n_repeats is the most common number of presentations (ties: the larger), or
// the nRepeats asked for. An image shown more often keeps its first n_repeats presentations in
// session and trial order (the rest are counted, not used); an image shown fewer times (or never)
// is refused by name, since filling its missing repeats would invent data and bias the noise
// ceiling: ask for nRepeats = the smaller count, or import a stimulus set without those images.

/** A design that cannot be used: names the file, the field and the offending values. */
export class DesignError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly values: Record<string, unknown> = {},
  ) {
    super(`${file}: ${message}`);
    this.name = 'DesignError';
  }
}

/** Design tables beyond this are not an fMRI session. */
export const MAX_DESIGN_BYTES = 8 << 20;
const MAX_TRIALS = 100_000;

/**
 * trials[t]: the stimulus externalId shown on trial t (0-based, the t-th volume of the session's
 * betas), or null for a trial the table does not list (a blank trial, never imported).
 *
 * CSV: a header row with a `stimulus` (or `externalId`) column and optionally a `trial` column
 * (0-based; without it rows are trials in order). JSON: an array of externalIds (null for a
 * blank trial) or of { trial, stimulus } objects.
 *
 * One table may span sessions (as NSD's design does): a `session` column (CSV) or key (JSON) names
 * each row's session, `session` picks this file's rows, and trials number within the session.
 * Sessions match as text, or as numbers when both are numbers ("01" is session 1).
 */
export function parseDesign(text: string, file: string, session?: string | null): (string | null)[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (!trimmed) throw new DesignError(file, 'is empty; a design lists the stimulus of each trial');
  let rows: { trial: number | null; stimulus: string | null; where: string; session?: string }[] = [];
  let hasSessions = false;
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new DesignError(file, `is not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new DesignError(file, 'must be a JSON array of externalIds, or of { "trial", "stimulus" } objects');
    parsed.forEach((item, i) => {
      if (item === null || typeof item === 'string') rows.push({ trial: null, stimulus: item, where: `element ${i}` });
      else if (typeof item === 'object' && item && 'stimulus' in item) {
        const o = item as { trial?: unknown; stimulus: unknown; session?: unknown };
        if (o.stimulus !== null && typeof o.stimulus !== 'string') throw new DesignError(file, `element ${i}: stimulus must be a string, got ${JSON.stringify(o.stimulus)}`, { element: i });
        if (o.session !== undefined) hasSessions = true;
        rows.push({
          trial: o.trial === undefined ? null : trialNumber(o.trial, file, `element ${i}`),
          stimulus: o.stimulus as string | null,
          where: `element ${i}`,
          session: o.session === undefined || o.session === null ? undefined : String(o.session),
        });
      } else throw new DesignError(file, `element ${i} is ${JSON.stringify(item)}; expected an externalId string, null or { "trial", "stimulus" }`, { element: i });
    });
  } else {
    const lines = trimmed.split(/\r?\n/);
    const sep = lines[0].includes('\t') ? '\t' : ',';
    const header = lines[0].split(sep).map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
    const sCol = header.findIndex((h) => h === 'stimulus' || h === 'externalid');
    const tCol = header.indexOf('trial');
    const sessionCol = header.indexOf('session');
    hasSessions = sessionCol >= 0;
    if (sCol < 0) throw new DesignError(file, `header row is ${JSON.stringify(lines[0])}; it needs a "stimulus" (or "externalId") column and optionally "trial"`, { header });
    for (let i = 1; i < lines.length; i++) {
      if (!lines[i].trim()) continue;
      const cells = lines[i].split(sep).map((c) => c.trim().replace(/^"|"$/g, ''));
      const where = `line ${i + 1}`;
      const stimulus = cells[sCol] ?? '';
      rows.push({ trial: tCol >= 0 ? trialNumber(cells[tCol], file, where) : null, stimulus: stimulus === '' ? null : stimulus, where, session: hasSessions ? cells[sessionCol] : undefined });
    }
  }
  if (rows.length === 0) throw new DesignError(file, 'lists no trial');
  if (hasSessions) {
    const named = [...new Set(rows.map((r) => r.session ?? ''))];
    if (session === undefined || session === null || session === '')
      throw new DesignError(file, `spans sessions (${listed(named)}); say which one this session's betas are (designSession)`, { sessions: named.slice(0, 20) });
    rows = rows.filter((r) => sameSession(r.session, session));
    if (rows.length === 0) throw new DesignError(file, `has no rows of session ${JSON.stringify(session)}; it lists sessions ${listed(named)}`, { session, sessions: named.slice(0, 20) });
  } else if (session !== undefined && session !== null && session !== '') {
    throw new DesignError(file, `has no session column, so it cannot pick session ${JSON.stringify(session)}; give the table a "session" column or leave designSession out`, { session });
  }
  const explicit = rows.some((r) => r.trial !== null);
  if (explicit && rows.some((r) => r.trial === null)) throw new DesignError(file, 'numbers some trials and not others; give every row a trial or none');
  const n = explicit ? Math.max(...rows.map((r) => r.trial!)) + 1 : rows.length;
  if (n > MAX_TRIALS) throw new DesignError(file, `lists trial ${n - 1}; at most ${MAX_TRIALS} trials per session`, { trial: n - 1 });
  const trials: (string | null)[] = new Array(n).fill(null);
  const seen = new Set<number>();
  rows.forEach((r, i) => {
    const t = explicit ? r.trial! : i;
    if (seen.has(t)) throw new DesignError(file, `${r.where} lists trial ${t} a second time`, { trial: t });
    seen.add(t);
    trials[t] = r.stimulus;
  });
  return trials;
}

function sameSession(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = a.trim();
  const y = b.trim();
  return x === y || (x !== '' && y !== '' && Number.isFinite(Number(x)) && Number(x) === Number(y));
}

function listed(names: string[]): string {
  return names.slice(0, 8).map((n) => JSON.stringify(n)).join(', ') + (names.length > 8 ? `, ... (${names.length})` : '');
}

function trialNumber(value: unknown, file: string, where: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new DesignError(file, `${where}: trial ${JSON.stringify(value)} is not a trial number (0-based integer)`, { trial: value });
  return n;
}

export interface RepeatPlan {
  nRepeats: number;
  nStimuli: number;
  /** Per session, per trial: where its betas go (repeat * n_stimuli + stimulus row), or -1 (blank or extra). */
  slots: Int32Array[];
  /** Presentations beyond n_repeats, not used. */
  extraPresentations: number;
  /** Presentations per stimulus row. */
  counts: Int32Array;
}

/**
 * Assigns each trial to a (repeat, stimulus) slot by the rule above. `stimuli`: the stimulus set's
 * externalIds in row order; `designs[s]`: session s's trials. Throws DesignError naming the file.
 */
export function planRepeats(designs: { file: string; trials: (string | null)[] }[], stimuli: string[], nRepeats?: number | null): RepeatPlan {
  const row = new Map(stimuli.map((id, i) => [id, i]));
  const counts = new Int32Array(stimuli.length);
  for (const d of designs) {
    const unknown: string[] = [];
    d.trials.forEach((id, t) => {
      if (id === null) return;
      const r = row.get(id);
      if (r === undefined) unknown.push(`${JSON.stringify(id)} (trial ${t})`);
      else counts[r]++;
    });
    if (unknown.length)
      throw new DesignError(d.file, `names ${unknown.length} stimulus presentation(s) not in the stimulus set: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`, {
        unknownStimuli: unknown.slice(0, 20),
      });
  }
  let R = nRepeats ?? 0;
  if (!nRepeats) {
    const freq = new Map<number, number>();
    counts.forEach((c) => c > 0 && freq.set(c, (freq.get(c) ?? 0) + 1));
    let best = 0;
    for (const [c, f] of freq) if (f > (freq.get(best) ?? 0) || (f === freq.get(best) && c > best)) best = c;
    R = best;
  }
  const files = designs.map((d) => d.file).join(', ');
  if (R < 1) throw new DesignError(files, 'show no stimulus of the stimulus set');
  const short: string[] = [];
  counts.forEach((c, i) => c < R && short.push(`${stimuli[i]} (${c})`));
  if (short.length) {
    const fewest = Math.min(...counts);
    throw new DesignError(
      files,
      `show ${short.length} image(s) fewer than ${R} times: ${short.slice(0, 5).join(', ')}${short.length > 5 ? ', ...' : ''}; ` +
        (fewest > 0 ? `ask for nRepeats: ${fewest} to use ${fewest} presentation(s) of every image, or ` : '') +
        'import a stimulus set of the images shown often enough',
      { nRepeats: R, fewerPresentations: short.slice(0, 20) },
    );
  }
  const used = new Int32Array(stimuli.length);
  let extraPresentations = 0;
  const slots = designs.map((d) =>
    Int32Array.from(d.trials, (id) => {
      if (id === null) return -1;
      const s = row.get(id)!;
      if (used[s] >= R) {
        extraPresentations++;
        return -1;
      }
      return used[s]++ * stimuli.length + s;
    }),
  );
  return { nRepeats: R, nStimuli: stimuli.length, slots, extraPresentations, counts };
}
