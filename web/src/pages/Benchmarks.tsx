// Every benchmark the viewer can see, each linking to its leaderboard.
import { Empty, ErrorBox, Loading } from '../components/common';
import type { BenchmarksQuery } from '../generated/graphql';
import { BenchmarksDoc } from '../graphql/benchmarks';
import { Link } from '../lib/router';
import { useQuery } from '../lib/use-query';

export function BenchmarksPage() {
  const { data, error, loading } = useQuery<BenchmarksQuery, object>(BenchmarksDoc, {});
  return (
    <section aria-labelledby="benchmarks-title">
      <h1 id="benchmarks-title">Benchmarks</h1>
      {error ? <ErrorBox error={error} /> : null}
      {loading && !data ? <Loading what="benchmarks" /> : null}
      {data && data.benchmarks.length === 0 ? <Empty>No benchmarks yet. Create one with the createBenchmark mutation.</Empty> : null}
      {data && data.benchmarks.length > 0 ? (
        <table>
          <caption>Benchmarks and the score they rank by</caption>
          <thead>
            <tr>
              <th scope="col">Benchmark</th>
              <th scope="col">Kind</th>
              <th scope="col">Ranked by</th>
              <th scope="col">Dataset</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {data.benchmarks.map((b) => (
              <tr key={b.id}>
                <th scope="row">
                  <Link to={`/benchmarks/${b.id}`}>{b.name}</Link>
                </th>
                <td>{b.kind}</td>
                <td>
                  <code>{b.metric}</code> ({b.higherIsBetter ? 'higher is better' : 'lower is better'})
                </td>
                <td>{b.dataset ? <Link to={`/catalog/datasets/${b.dataset.id}`}>{b.dataset.name}</Link> : '–'}</td>
                <td>{b.description || '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
