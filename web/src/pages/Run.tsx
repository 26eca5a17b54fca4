// One run: status with live progress (polled while open), error, parameters, provenance, outputs,
// cancel and resubmit, and the results view for its kind.
import { useEffect, useState } from 'react';
import { ErrorBox, JsonView, Loading, StatusBadge } from '../components/common';
import type { RunQuery } from '../generated/graphql';
import { CancelRunDoc, RunDoc } from '../graphql/runs';
import { request } from '../lib/client';
import { pct, when } from '../lib/format';
import { Link, navigate } from '../lib/router';
import { useQuery } from '../lib/use-query';
import { resubmitter } from '../lib/resubmit';
import { RunResults } from '../results/RunResults';
import { KeyValueView } from '../components/KeyValue';

export type RunData = NonNullable<RunQuery['run']>;
const open = (s: string) => s === 'QUEUED' || s === 'RUNNING';

export function RunPage({ id }: { id: string }) {
  const { data, error, reload } = useQuery<RunQuery, { id: string }>(RunDoc, { id }, { pollMs: 1500, poll: (d) => !!d.run && open(d.run.status) });
  const [actionError, setActionError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  // The browser tab names the run by what it compares, like the heading.
  const title = data?.run?.title;
  useEffect(() => {
    if (title) document.title = `${title} · BrainAlign`;
  }, [title]);

  if (error && !data) return <ErrorBox error={error} />;
  if (!data) return <Loading what="run" />;
  const run = data.run;
  if (!run) return <p>Run {id} does not exist or is not visible to you.</p>;

  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await fn();
    } catch (e) {
      setActionError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const resubmit = resubmitter(run.kind);
  const cancel = () => act(async () => (await request(CancelRunDoc, { id: run.id }), reload()));
  const again = () => act(async () => navigate(`/runs/${await resubmit!(run.params)}`));

  return (
    <article aria-labelledby="run-title">
      <p className="crumbs">
        <Link to="/runs">Runs</Link> › {run.id.slice(0, 8)}
      </p>
      <h1 id="run-title">{run.title}</h1>
      <p className="run-id">
        {run.kind} run <code>{run.id}</code>
      </p>
      <dl className="facts">
        <dt>Status</dt>
        <dd data-testid="run-status">
          <StatusBadge status={run.status} />
        </dd>
        <dt>Progress</dt>
        <dd>
          <progress max={1} value={run.progress} aria-label="Run progress" aria-valuetext={`${pct(run.progress, 0)} ${run.progressMessage}`} /> {pct(run.progress, 0)}{' '}
          <span aria-live="polite">{run.progressMessage}</span>
        </dd>
        <dt>Attempts</dt>
        <dd>{run.attempts}</dd>
        {run.parent ? (
          <>
            <dt>Part of</dt>
            <dd data-testid="run-parent">
              <Link to={`/runs/${run.parent.id}`}>{run.parent.kind} run {run.parent.id.slice(0, 8)}</Link>
            </dd>
          </>
        ) : null}
        <dt>Created / started / finished</dt>
        <dd>
          {when(run.createdAt)} / {when(run.startedAt)} / {when(run.finishedAt)}
        </dd>
      </dl>
      {run.error ? (
        <div role="alert" className="error" data-testid="run-error">
          <strong>{run.error.code}:</strong> {run.error.message}
          {run.error.details ? <JsonView value={run.error.details} label="Error details" /> : null}
        </div>
      ) : null}
      <div className="actions">
        {open(run.status) ? (
          <button type="button" onClick={cancel} disabled={busy}>
            Cancel run
          </button>
        ) : null}
        {!open(run.status) && resubmit ? (
          <button type="button" onClick={again} disabled={busy}>
            Resubmit with the same parameters
          </button>
        ) : null}
      </div>
      {actionError ? <ErrorBox error={actionError} /> : null}

      <RunResults run={run} />

      <details>
        <summary>Parameters</summary>
        <KeyValueView value={run.params} label="Run parameters" tableLabel="Parameters of the run" />
      </details>
      <details>
        <summary>Provenance</summary>
        <KeyValueView value={run.provenance} label="Run provenance" tableLabel="Provenance of the run" />
      </details>
      {run.outputs.length ? (
        <table>
          <caption>Output arrays</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">dtype</th>
              <th scope="col">Shape</th>
              <th scope="col">Download</th>
            </tr>
          </thead>
          <tbody>
            {run.outputs.map((o) => (
              <tr key={o.name}>
                <th scope="row">{o.name}</th>
                <td>{o.artifact.dtype ?? '–'}</td>
                <td>[{o.artifact.shape.join(', ')}]</td>
                <td>
                  <a href={o.artifact.downloadUrl} download>
                    Download {o.name}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}
