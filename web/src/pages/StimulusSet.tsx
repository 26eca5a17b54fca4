// The stimuli of one set in row order (row i of every array over the set), paged, with each
// image's thumbnail beside its concepts and caption when the set has images.
import { useState } from 'react';
import { ErrorBox, Loading, Pager } from '../components/common';
import type { StimulusSetQuery } from '../generated/graphql';
import { StimulusSetDoc } from '../graphql/catalog';
import { Link } from '../lib/router';
import { useQuery } from '../lib/use-query';

export function StimulusSetPage({ id }: { id: string }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const { data, error } = useQuery<StimulusSetQuery, { id: string; first: number; after: string | null }>(StimulusSetDoc, { id, first: 50, after: cursors[cursors.length - 1] });
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="stimulus set" />;
  const s = data.stimulusSet;
  if (!s) return <p>Stimulus set {id} does not exist or is not visible to you.</p>;
  return (
    <article aria-labelledby="set-title">
      <p className="crumbs">
        <Link to="/catalog">Catalog</Link> › <Link to={`/catalog/datasets/${s.dataset.id}`}>{s.dataset.name}</Link> › {s.name}
      </p>
      <h1 id="set-title">Stimulus set {s.name}</h1>
      <p>
        {s.nStimuli} stimuli, {s.nImages} with an image. {s.description}
      </p>
      <table data-testid="stimuli">
        <caption>Stimuli in row order</caption>
        <thead>
          <tr>
            <th scope="col">Row</th>
            {s.nImages > 0 && <th scope="col">Image</th>}
            <th scope="col">External id</th>
            <th scope="col">Concepts</th>
            <th scope="col">Caption</th>
          </tr>
        </thead>
        <tbody>
          {s.stimuli.edges.map(({ node: st }) => (
            <tr key={st.id}>
              <td>{st.position}</td>
              {s.nImages > 0 && (
                <td className="thumb">
                  {st.image?.thumbnailUrl ? (
                    <figure>
                      <img src={st.image.thumbnailUrl} alt={`image of ${st.externalId}`} loading="lazy" style={{ maxWidth: 96, maxHeight: 96 }} />
                      <figcaption>
                        {st.image.width} x {st.image.height} {st.image.format}
                      </figcaption>
                    </figure>
                  ) : (
                    '–'
                  )}
                </td>
              )}
              <th scope="row">{st.externalId}</th>
              <td>{st.concepts.join(', ') || '–'}</td>
              <td>{st.caption ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager label="Stimuli" atFirst={cursors.length === 1} hasNext={s.stimuli.pageInfo.hasNextPage} onFirst={() => setCursors([null])} onNext={() => setCursors([...cursors, s.stimuli.pageInfo.endCursor])} />
    </article>
  );
}
