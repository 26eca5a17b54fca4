// Ranking scores with their uncertainty. Rows are sorted by value; a row joins the tie group of
// the row that opened the group when their confidence intervals overlap (or, without intervals,
// when their values are equal). Comparing with the group's first row, not the previous one, keeps
// a chain of small overlaps from tying the whole board. Ranks are competition ranks: 1, 1, 3.

export const TIE_RULE =
  'Sorted by value (best first; earlier scores first among equal values). A row shares the rank of the first row of its group ' +
  'when their 95% confidence intervals overlap (equal values when either has no interval); otherwise it opens a new group ' +
  'ranked by its position (competition ranking: 1, 1, 3).';

export interface Rankable {
  value: number;
  ciLow?: number | null;
  ciHigh?: number | null;
  createdAt: Date;
  id: string;
}

export interface Ranked<T> {
  row: T;
  rank: number;
  tied: boolean;
}

function overlaps(a: Rankable, b: Rankable): boolean {
  if (a.ciLow == null || a.ciHigh == null || b.ciLow == null || b.ciHigh == null) return a.value === b.value;
  return a.ciLow <= b.ciHigh && b.ciLow <= a.ciHigh;
}

export function rankRows<T extends Rankable>(rows: T[], higherIsBetter: boolean): Ranked<T>[] {
  const sorted = [...rows].sort(
    (a, b) =>
      (higherIsBetter ? b.value - a.value : a.value - b.value) ||
      a.createdAt.getTime() - b.createdAt.getTime() ||
      a.id.localeCompare(b.id),
  );
  const ranked: Ranked<T>[] = [];
  let leader = 0;
  sorted.forEach((row, i) => {
    if (i > 0 && !overlaps(sorted[leader], row)) leader = i;
    ranked.push({ row, rank: leader + 1, tied: false });
  });
  // A row is tied when any other row has its rank.
  const counts = new Map<number, number>();
  for (const r of ranked) counts.set(r.rank, (counts.get(r.rank) ?? 0) + 1);
  for (const r of ranked) r.tied = counts.get(r.rank)! > 1;
  return ranked;
}
