import { rankRows, type Rankable } from '../../src/domain/ranking';

let t = 0;
const row = (id: string, value: number, ci?: [number, number]): Rankable => ({
  id,
  value,
  ciLow: ci?.[0] ?? null,
  ciHigh: ci?.[1] ?? null,
  createdAt: new Date(1_700_000_000_000 + t++ * 1000),
});
const ranks = (rows: Rankable[], higher = true) => rankRows(rows, higher).map((r) => `${r.row.id}:${r.rank}${r.tied ? '=' : ''}`);

describe('leaderboard ranking', () => {
  it('shares a rank when confidence intervals overlap the group leader (competition ranking)', () => {
    const rows = [row('a', 0.5, [0.45, 0.55]), row('b', 0.52, [0.5, 0.54]), row('c', 0.3, [0.28, 0.32]), row('d', 0.6, [0.58, 0.62])];
    expect(ranks(rows)).toEqual(['d:1', 'b:2=', 'a:2=', 'c:4']);
  });

  it('compares with the first row of the group, so a chain of small overlaps does not tie everything', () => {
    // a overlaps b, b overlaps c, but a does not overlap c.
    const rows = [row('a', 0.9, [0.85, 0.95]), row('b', 0.84, [0.8, 0.88]), row('c', 0.78, [0.74, 0.82])];
    expect(ranks(rows)).toEqual(['a:1=', 'b:1=', 'c:3']);
  });

  it('without intervals only equal values tie; earlier runs come first among equals', () => {
    const rows = [row('late', 0.7), row('x', 0.9), row('early', 0.7)];
    rows[2].createdAt = new Date(0);
    expect(ranks(rows)).toEqual(['x:1', 'early:2=', 'late:2=']);
  });

  it('ranks ascending when lower is better', () => {
    expect(ranks([row('a', 0.2), row('b', 0.1), row('c', 0.3)], false)).toEqual(['b:1', 'a:2', 'c:3']);
  });
});
