// The catalog: datasets and models the viewer can see.
import { useState } from 'react';
import { Empty, ErrorBox, Loading, Pager } from '../components/common';
import type { DatasetsQuery, ModelsQuery } from '../generated/graphql';
import { DatasetsDoc, ModelsDoc } from '../graphql/catalog';
import { Link } from '../lib/router';
import { useQuery } from '../lib/use-query';

type Page = { first: number; after: string | null };

export function CatalogPage() {
  const [dsCursors, setDs] = useState<(string | null)[]>([null]);
  const [mCursors, setM] = useState<(string | null)[]>([null]);
  const datasets = useQuery<DatasetsQuery, Page>(DatasetsDoc, { first: 20, after: dsCursors[dsCursors.length - 1] });
  const models = useQuery<ModelsQuery, Page>(ModelsDoc, { first: 20, after: mCursors[mCursors.length - 1] });
  return (
    <>
      <h1>Catalog</h1>
      <section aria-labelledby="datasets-title">
        <h2 id="datasets-title">Datasets</h2>
        {datasets.error ? <ErrorBox error={datasets.error} /> : null}
        {!datasets.data && !datasets.error ? <Loading what="datasets" /> : null}
        {datasets.data && datasets.data.datasets.edges.length === 0 ? <Empty>No datasets visible to you.</Empty> : null}
        {datasets.data && datasets.data.datasets.edges.length > 0 ? (
          <>
            <table data-testid="datasets">
              <caption>{datasets.data.datasets.totalCount} datasets</caption>
              <thead>
                <tr>
                  <th scope="col">Dataset</th>
                  <th scope="col">Visibility</th>
                  <th scope="col">Subjects</th>
                  <th scope="col">Stimulus sets</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {datasets.data.datasets.edges.map(({ node: d }) => (
                  <tr key={d.id}>
                    <th scope="row">
                      <Link to={`/catalog/datasets/${d.id}`}>{d.name}</Link>
                    </th>
                    <td>{d.visibility}</td>
                    <td>{d.subjects.length}</td>
                    <td>{d.stimulusSets.length}</td>
                    <td>{d.description || '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager label="Datasets" atFirst={dsCursors.length === 1} hasNext={datasets.data.datasets.pageInfo.hasNextPage} onFirst={() => setDs([null])} onNext={() => setDs([...dsCursors, datasets.data!.datasets.pageInfo.endCursor])} />
          </>
        ) : null}
      </section>
      <section aria-labelledby="models-title">
        <h2 id="models-title">Models</h2>
        {models.error ? <ErrorBox error={models.error} /> : null}
        {!models.data && !models.error ? <Loading what="models" /> : null}
        {models.data && models.data.models.edges.length === 0 ? <Empty>No models visible to you.</Empty> : null}
        {models.data && models.data.models.edges.length > 0 ? (
          <>
            <table data-testid="models">
              <caption>{models.data.models.totalCount} models</caption>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Family</th>
                  <th scope="col">Feature width</th>
                  <th scope="col">Feature sets (ready / all)</th>
                  <th scope="col">Visibility</th>
                </tr>
              </thead>
              <tbody>
                {models.data.models.edges.map(({ node: m }) => (
                  <tr key={m.id}>
                    <th scope="row">{m.name}</th>
                    <td>{m.kind}</td>
                    <td>{m.family}</td>
                    <td>{m.featureWidth ?? '–'}</td>
                    <td>
                      {m.featureSets.filter((f) => f.status === 'READY').length} / {m.featureSets.length}
                    </td>
                    <td>{m.visibility}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager label="Models" atFirst={mCursors.length === 1} hasNext={models.data.models.pageInfo.hasNextPage} onFirst={() => setM([null])} onNext={() => setM([...mCursors, models.data!.models.pageInfo.endCursor])} />
          </>
        ) : null}
      </section>
    </>
  );
}
