// Two or more runs of one kind side by side: their per-ROI scores of one metric with CIs on one
// chart and in a table, and their parameters with the ones that differ highlighted.
import { useEffect, useMemo, useState } from 'react';
import { CompareBars, type CompareRow } from '../components/CompareChart';
import { ErrorBox, Loading } from '../components/common';
import type { CompareRunQuery } from '../generated/graphql';
import { CompareRunDoc } from '../graphql/runs';
import { request } from '../lib/client';
import { ci, fmt } from '../lib/format';
import { Link } from '../lib/router';

type CompareRun = NonNullable<CompareRunQuery['run']>;

const show = (v: unknown) => (v === undefined ? '–' : typeof v === 'string' ? v : JSON.stringify(v));
/** Whole-brain first, then ROIs by name; category and combined scopes stay in the table only. */
const scopeOrder = (s: string) => (s === 'all' ? '' : s);

export function ComparePage({ ids }: { ids: string[] }) {
  const [runs, setRuns] = useState<CompareRun[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [metric, setMetric] = useState('');
  useEffect(() => {
    let live = true;
    Promise.all(ids.map((id) => request<CompareRunQuery, { id: string }>(CompareRunDoc, { id })))
      .then((rs) => {
        if (!live) return;
        const missing = ids.filter((_, i) => !rs[i].run);
        if (missing.length) throw new Error(`Run${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found or not visible to you`);
        setRuns(rs.map((r) => r.run!));
      })
      .catch((e) => live && setError(e as Error));
    return () => {
      live = false;
    };
  }, [ids.join(',')]);

  const metrics = useMemo(() => {
    if (!runs) return [];
    const sets = runs.map((r) => new Set(r.scores.map((s) => s.metric)));
    return [...sets[0]].filter((m) => sets.every((s) => s.has(m))).sort();
  }, [runs]);
  const chosen = metric || (metrics.includes('pearson_r.mean') ? 'pearson_r.mean' : (metrics[0] ?? ''));

  if (error) return <ErrorBox error={error} />;
  if (ids.length < 2) return <p role="alert">Pick two or more runs to compare (select them in the runs list).</p>;
  if (!runs) return <Loading what="runs to compare" />;
  const kinds = [...new Set(runs.map((r) => r.kind))];
  const keys = runs.map((_, i) => `run${i}`);
  const names = runs.map((r, i) => `${String.fromCharCode(65 + i)}: ${r.title}`);
  const scopes = [...new Set(runs.flatMap((r) => r.scores.filter((s) => s.metric === chosen).map((s) => s.scope)))].sort((a, b) => scopeOrder(a).localeCompare(scopeOrder(b)));
  const score = (r: CompareRun, scope: string) => r.scores.find((s) => s.metric === chosen && s.scope === scope);
  const rows: CompareRow[] = scopes
    .filter((s) => s === 'all' || /^roi:[^|]+$/.test(s))
    .map((scope) => {
      const row: CompareRow = { scope: scope === 'all' ? 'all voxels' : scope.slice(4) };
      runs.forEach((r, i) => {
        const s = score(r, scope);
        if (!s) return;
        row[keys[i]] = s.value;
        if (s.ciLow != null && s.ciHigh != null) row[`${keys[i]}Err`] = [s.value - s.ciLow, s.ciHigh - s.value];
      });
      return row;
    });
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys((r.params ?? {}) as object)))].sort();
  const paramOf = (r: CompareRun, k: string) => ((r.params ?? {}) as Record<string, unknown>)[k];

  return (
    <article aria-labelledby="compare-title">
      <p className="crumbs">
        <Link to="/runs">Runs</Link> › compare
      </p>
      <h1 id="compare-title">Comparing {runs.length} runs</h1>
      <ol className="compare-runs">
        {runs.map((r, i) => (
          <li key={r.id} data-testid="compared-run">
            <strong>{String.fromCharCode(65 + i)}</strong> <Link to={`/runs/${r.id}`}>{r.title}</Link> ({r.status.toLowerCase()})
          </li>
        ))}
      </ol>
      {kinds.length > 1 ? (
        <p role="alert">These runs are of different kinds ({kinds.join(', ')}); only runs of one kind compute comparable scores. Pick runs of one kind.</p>
      ) : (
        <>
          {metrics.length > 1 ? (
            <label>
              Metric{' '}
              <select value={chosen} onChange={(e) => setMetric(e.target.value)}>
                {metrics.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </label>
          ) : null}
          {rows.length ? <CompareBars rows={rows} runs={keys.map((key, i) => ({ key, name: names[i] }))} title={`${chosen} per ROI, run by run`} yLabel={chosen} /> : <p>These runs share no scores.</p>}
          {scopes.length ? (
            <table data-testid="compare-scores">
              <caption>{chosen} by scope (value and 95% CI)</caption>
              <thead>
                <tr>
                  <th scope="col">Scope</th>
                  {runs.map((r, i) => (
                    <th key={r.id} scope="col">
                      {String.fromCharCode(65 + i)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {scopes.map((scope) => (
                  <tr key={scope} data-scope={scope}>
                    <th scope="row">{scope}</th>
                    {runs.map((r) => {
                      const s = score(r, scope);
                      return <td key={r.id}>{s ? `${fmt(s.value)} ${ci(s.ciLow, s.ciHigh)}` : '–'}</td>;
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      )}
      <table data-testid="compare-params">
        <caption>Parameters (rows that differ are highlighted)</caption>
        <thead>
          <tr>
            <th scope="col">Parameter</th>
            {runs.map((r, i) => (
              <th key={r.id} scope="col">
                {String.fromCharCode(65 + i)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {paramKeys.map((k) => {
            const values = runs.map((r) => show(paramOf(r, k)));
            const differs = new Set(values).size > 1;
            return (
              <tr key={k} data-param={k} data-differs={differs ? 'true' : 'false'} className={differs ? 'differs' : undefined}>
                <th scope="row">
                  {k}
                  {differs ? <span className="sr-only"> (differs)</span> : null}
                </th>
                {values.map((v, i) => (
                  <td key={runs[i].id}>
                    <code className="wrap">{v}</code>
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </article>
  );
}
