// One dataset: its subjects with ROIs and response sets (noise ceilings), and its stimulus sets.
import { ErrorBox, Loading, StatusBadge } from '../components/common';
import type { DatasetQuery } from '../generated/graphql';
import { DatasetDoc } from '../graphql/catalog';
import { fmt } from '../lib/format';
import { Link } from '../lib/router';
import { useQuery } from '../lib/use-query';

export function DatasetPage({ id }: { id: string }) {
  const { data, error } = useQuery<DatasetQuery, { id: string }>(DatasetDoc, { id });
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="dataset" />;
  const d = data.dataset;
  if (!d) return <p>Dataset {id} does not exist or is not visible to you.</p>;
  return (
    <article aria-labelledby="dataset-title">
      <p className="crumbs">
        <Link to="/catalog">Catalog</Link> › {d.name}
      </p>
      <h1 id="dataset-title">Dataset {d.name}</h1>
      <p>
        {d.description} ({d.visibility}, lab {d.lab.name})
      </p>
      <h2>Subjects</h2>
      <table data-testid="subjects">
        <caption>Subjects, their ROIs and response sets</caption>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Voxels</th>
            <th scope="col">ROIs (voxels)</th>
            <th scope="col">Response sets</th>
          </tr>
        </thead>
        <tbody>
          {d.subjects.map((s) => (
            <tr key={s.id}>
              <th scope="row">{s.name}</th>
              <td>{s.nVoxels}</td>
              <td>{s.rois.map((r) => `${r.name} (${r.nVoxels})`).join(', ') || '–'}</td>
              <td>
                <ul className="plain">
                  {s.responseSets.map((r) => (
                    <li key={r.id}>
                      {r.name} <StatusBadge status={r.status} /> {r.nRepeats ? `${r.nRepeats} repeats, ` : ''}
                      {r.noiseCeilingMedian !== null ? `median noise ceiling ${fmt(r.noiseCeilingMedian, 1)}%` : 'no noise ceiling'}
                      {r.splitHalfMedian !== null ? `, median split-half reliability ${fmt(r.splitHalfMedian, 3)} (${r.splitHalfSplits} splits, Spearman-Brown)` : ''}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Stimulus sets</h2>
      <table data-testid="stimulus-sets">
        <caption>Stimulus sets of {d.name}</caption>
        <thead>
          <tr>
            <th scope="col">Stimulus set</th>
            <th scope="col">Images</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {d.stimulusSets.map((s) => (
            <tr key={s.id}>
              <th scope="row">
                <Link to={`/catalog/stimulus-sets/${s.id}`}>{s.name}</Link>
              </th>
              <td>{s.nStimuli}</td>
              <td>{s.description || '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
