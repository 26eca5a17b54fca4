// All runs the viewer can see, newest first, named by what they compare, filterable by kind and
// status; refreshes while any listed run is still open. Selected runs of one kind open side by side.
import { useState } from 'react';
import { Empty, ErrorBox, Loading, Pager, StatusBadge } from '../components/common';
import type { RunKind, RunStatus, RunsQuery, RunsQueryVariables } from '../generated/graphql';
import { RunsDoc } from '../graphql/runs';
import { pct, when } from '../lib/format';
import { Link, navigate } from '../lib/router';
import { useQuery } from '../lib/use-query';

const KINDS: RunKind[] = ['IMPORT_RESPONSES', 'IMPORT_FEATURES', 'ENCODING_RIDGE', 'ENCODING_ICL', 'CAUSAL_TEST', 'VQA_EVAL'];
const STATUSES: RunStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const open = (s: string) => s === 'QUEUED' || s === 'RUNNING';

export function RunsPage() {
  const [kind, setKind] = useState('');
  const [status, setStatus] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<{ id: string; kind: string }[]>([]);
  const toggle = (id: string, kind: string) => setSelected((s) => (s.some((x) => x.id === id) ? s.filter((x) => x.id !== id) : [...s, { id, kind }]));
  const oneKind = new Set(selected.map((s) => s.kind)).size === 1;
  const vars: RunsQueryVariables = {
    first: 25,
    after: cursors[cursors.length - 1],
    filter: kind || status ? { kind: (kind || null) as RunKind | null, status: (status || null) as RunStatus | null, labId: null, modelId: null, subjectId: null, datasetId: null } : null,
  };
  const { data, error, loading } = useQuery<RunsQuery, RunsQueryVariables>(RunsDoc, vars, {
    pollMs: 2000,
    poll: (d) => d.runs.edges.some((e) => open(e.node.status)),
  });
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form className="filters" aria-label="Run filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Kind
          <select value={kind} onChange={(e) => (setKind(e.target.value), setCursors([null]))}>
            <option value="">all kinds</option>
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => (setStatus(e.target.value), setCursors([null]))}>
            <option value="">any status</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </form>
      <p className="compare-bar">
        <button type="button" disabled={selected.length < 2 || !oneKind} onClick={() => navigate(`/runs/compare/${selected.map((s) => s.id).join(',')}`)}>
          Compare selected ({selected.length})
        </button>{' '}
        {selected.length >= 2 && !oneKind ? <span role="status">Select runs of one kind to compare them.</span> : null}
      </p>
      {error ? <ErrorBox error={error} /> : null}
      {loading && !data ? <Loading what="runs" /> : null}
      {data && data.runs.edges.length === 0 ? <Empty>No runs match.</Empty> : null}
      {data && data.runs.edges.length > 0 ? (
        <>
          <table data-testid="runs">
            <caption>{data.runs.totalCount} runs</caption>
            <thead>
              <tr>
                <th scope="col">
                  <span className="sr-only">Compare</span>
                </th>
                <th scope="col">Run</th>
                <th scope="col">Model</th>
                <th scope="col">Subject</th>
                <th scope="col">Dataset</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
                <th scope="col">Finished</th>
              </tr>
            </thead>
            <tbody>
              {data.runs.edges.map(({ node: r }) => (
                <tr key={r.id} data-run={r.id}>
                  <td>
                    <input type="checkbox" aria-label={`Compare ${r.title}`} checked={selected.some((x) => x.id === r.id)} onChange={() => toggle(r.id, r.kind)} />
                  </td>
                  <th scope="row">
                    <Link to={`/runs/${r.id}`}>{r.title}</Link> <code className="run-id">{r.id.slice(0, 8)}</code>
                  </th>
                  <td data-col="model">{r.model ? `${r.model.name}${r.layer ? ` ${r.layer}` : ''}` : '–'}</td>
                  <td data-col="subject">{r.subject?.name ?? '–'}</td>
                  <td data-col="dataset">{r.dataset?.name ?? '–'}</td>
                  <td>{r.kind}</td>
                  <td>
                    <StatusBadge status={r.status} />
                    {r.error ? <span className="err-inline"> {r.error.code}</span> : null}
                  </td>
                  <td>
                    {pct(r.progress, 0)} {open(r.status) ? r.progressMessage : ''}
                  </td>
                  <td>{when(r.createdAt)}</td>
                  <td>{when(r.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager label="Runs" atFirst={cursors.length === 1} hasNext={data.runs.pageInfo.hasNextPage} onFirst={() => setCursors([null])} onNext={() => setCursors([...cursors, data.runs.pageInfo.endCursor])} />
        </>
      ) : null}
    </section>
  );
}
