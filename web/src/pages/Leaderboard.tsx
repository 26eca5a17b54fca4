// One benchmark's leaderboard: filters (subject, ROI, category, model family), raw or
// ceiling-normalised ranking, sortable columns, CI bars, site of origin, cursor pages.
import { useMemo, useState, type ReactNode } from 'react';
import { CiBar, Empty, ErrorBox, Loading, Pager } from '../components/common';
import type { BenchmarkQuery, LeaderboardQuery, LeaderboardQueryVariables, LeaderboardValue } from '../generated/graphql';
import { BenchmarkDoc, LeaderboardDoc } from '../graphql/benchmarks';
import { CiScale } from '../components/CiScale';
import { AboveCeilingNote, aboveCeiling, MetricName, NormalisedName } from '../components/Explain';
import { ci, fmt } from '../lib/format';
import { Link } from '../lib/router';
import { useQuery } from '../lib/use-query';

type Row = LeaderboardQuery['leaderboard']['edges'][number]['node'];
type SortKey = 'rank' | 'value' | 'normalized' | 'model' | 'family' | 'subject' | 'site';
const PAGE = 20;

const sortValue: Record<SortKey, (r: Row) => string | number> = {
  rank: (r) => r.rank,
  value: (r) => r.value,
  normalized: (r) => r.normalized ?? -Infinity,
  model: (r) => r.model?.name ?? '',
  family: (r) => r.model?.family ?? '',
  subject: (r) => r.subject?.name ?? '',
  site: (r) => r.site,
};

export function LeaderboardPage({ id }: { id: string }) {
  const bench = useQuery<BenchmarkQuery, { id: string }>(BenchmarkDoc, { id });
  const [subjectId, setSubjectId] = useState('');
  const [roi, setRoi] = useState('');
  const [category, setCategory] = useState('');
  const [family, setFamily] = useState('');
  const [rankBy, setRankBy] = useState<LeaderboardValue>('RAW');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [sort, setSort] = useState<{ key: SortKey; asc: boolean }>({ key: 'rank', asc: true });

  const vars: LeaderboardQueryVariables = {
    benchmarkId: id,
    metric: null,
    roi: roi || null,
    category: category || null,
    rankBy,
    filter: subjectId || family ? { subjectId: subjectId || null, modelFamily: family || null, modelId: null } : null,
    first: PAGE,
    after: cursors[cursors.length - 1],
  };
  const board = useQuery<LeaderboardQuery, LeaderboardQueryVariables>(LeaderboardDoc, vars);
  const resetPages = () => setCursors([null]);

  const b = bench.data?.benchmark;
  const roiNames = useMemo(() => [...new Set(b?.dataset?.subjects.flatMap((s) => s.rois.map((r) => r.name)) ?? [])].sort(), [b]);
  const rows = board.data?.leaderboard.edges.map((e) => e.node) ?? [];
  const sorted = useMemo(() => {
    const get = sortValue[sort.key];
    return [...rows].sort((x, y) => {
      const a = get(x);
      const c = get(y);
      const d = typeof a === 'number' && typeof c === 'number' ? a - c : String(a).localeCompare(String(c));
      return sort.asc ? d : -d;
    });
  }, [rows, sort]);
  // The CI bars share a scale spanning this page's intervals, padded so whiskers stay visible.
  const lows = rows.map((r) => r.ciLow ?? r.value);
  const highs = rows.map((r) => r.ciHigh ?? r.value);
  const pad = (Math.max(...highs) - Math.min(...lows)) * 0.1 || 0.01;
  const lo = Math.min(...lows) - pad;
  const hi = Math.max(...highs) + pad;

  if (bench.error) return <ErrorBox error={bench.error} />;
  if (!bench.data) return <Loading what="benchmark" />;
  if (!b) return <p>Benchmark {id} does not exist or is not visible to you.</p>;

  const header = (key: SortKey, label: ReactNode) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.asc ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="sort" onClick={() => setSort({ key, asc: sort.key === key ? !sort.asc : key === 'rank' || key === 'model' || key === 'subject' || key === 'family' || key === 'site' })}>
        {label}
        <span aria-hidden="true">{sort.key === key ? (sort.asc ? ' ▲' : ' ▼') : ''}</span>
      </button>
    </th>
  );

  return (
    <section aria-labelledby="board-title">
      <p className="crumbs">
        <Link to="/">Benchmarks</Link> › {b.name}
      </p>
      <h1 id="board-title">Leaderboard: {b.name}</h1>
      <p>
        {b.kind} benchmark ranked by <MetricName metric={board.data?.leaderboard.metric ?? b.metric} />
        {board.data ? <> on scope <code>{board.data.leaderboard.scope}</code></> : null}. {b.description}
      </p>
      <form className="filters" aria-label="Leaderboard filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Subject
          <select value={subjectId} onChange={(e) => (setSubjectId(e.target.value), resetPages())}>
            <option value="">all subjects</option>
            {b.dataset?.subjects.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          ROI
          <select value={roi} onChange={(e) => (setRoi(e.target.value), resetPages())}>
            <option value="">whole brain (all)</option>
            {roiNames.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        {b.vqa ? (
          <label>
            Question category
            <select value={category} onChange={(e) => (setCategory(e.target.value), resetPages())}>
              <option value="">all categories</option>
              {b.vqa.categories.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          Model family
          <input value={family} onChange={(e) => (setFamily(e.target.value), resetPages())} placeholder="e.g. clip" />
        </label>
        {b.kind === 'ENCODING' || b.kind === 'IN_CONTEXT' ? (
          <label>
            Rank by
            <select value={rankBy} onChange={(e) => (setRankBy(e.target.value as LeaderboardValue), resetPages())}>
              <option value="RAW">raw score</option>
              <option value="NORMALIZED">noise-ceiling-normalised score</option>
            </select>
          </label>
        ) : null}
      </form>
      {board.error ? <ErrorBox error={board.error} /> : null}
      {board.loading && !board.data ? <Loading what="leaderboard" /> : null}
      {board.data && rows.length === 0 ? <Empty>No scored runs match these filters.</Empty> : null}
      {board.data && rows.length > 0 ? (
        <>
          <AboveCeilingNote values={rows.map((r) => r.normalized)} />
          <table data-testid="leaderboard">
            <caption>
              {board.data.leaderboard.totalCount} scored runs; {board.data.leaderboard.tieRule}
            </caption>
            <thead>
              <tr>
                {header('rank', 'Rank')}
                {header('model', 'Model')}
                {header('family', 'Family')}
                {header('subject', 'Subject')}
                {header('value', 'Score')}
                <th scope="col">95% CI</th>
                <th scope="col">
                  <span className="sr-only">Score and CI on a shared scale</span>
                  <CiScale min={lo} max={hi} label="Scale of the CI bars" />
                </th>
                {header('normalized', <NormalisedName />)}
                {header('site', 'Site')}
                <th scope="col">Run</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((r, i) => (
                <tr key={r.run?.id ?? `imported-${i}`} data-run-id={r.run?.id}>
                  <td data-col="rank">
                    {r.rank}
                    {r.tied ? <span title="tied: CIs overlap"> (tied)</span> : null}
                  </td>
                  <td data-col="model">{r.model?.name ?? '–'}</td>
                  <td data-col="family">{r.model?.family ?? '–'}</td>
                  <td data-col="subject">{r.subject?.name ?? '–'}</td>
                  <td data-col="value">{fmt(r.value)}</td>
                  <td data-col="ci">{ci(r.ciLow, r.ciHigh)}</td>
                  <td>
                    <CiBar value={r.value} low={r.ciLow} high={r.ciHigh} min={lo} max={hi} />
                  </td>
                  <td data-col="normalized" {...aboveCeiling(r.normalized)}>
                    {fmt(r.normalized)}
                  </td>
                  <td data-col="site">{r.site}</td>
                  <td>{r.run ? <Link to={`/runs/${r.run.id}`}>Open run {r.run.id.slice(0, 8)}</Link> : <span>computed at {r.site}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Leaderboard"
            atFirst={cursors.length === 1}
            hasNext={board.data.leaderboard.pageInfo.hasNextPage}
            onFirst={resetPages}
            onNext={() => setCursors([...cursors, board.data!.leaderboard.pageInfo.endCursor])}
          />
        </>
      ) : null}
    </section>
  );
}
