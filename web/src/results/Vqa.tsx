// Brain-decoding VQA: accuracy per question category with 95% CIs, beside the chance and prior
// baselines each score carries; per ROI and category when the decoder tagged its answers.
import { BarsWithBaselines, errOf } from '../components/charts';
import { Empty } from '../components/common';
import { ci, fmt } from '../lib/format';
import { NO_RESULTS, type ScoreData } from './RunResults';

const baseline = (s: ScoreData, key: 'chance' | 'prior'): number | null => {
  const v = (s.extra as Record<string, unknown> | null)?.[key];
  return typeof v === 'number' ? v : null;
};

export function VqaResults({ scores }: { scores: ScoreData[] }) {
  const acc = scores.filter((s) => s.metric === 'vqa_accuracy');
  if (!acc.length) return <Empty>{NO_RESULTS}</Empty>;
  const overall = acc.find((s) => s.scope === 'all');
  const categories = acc.filter((s) => s.scope.startsWith('category:')).sort((a, b) => a.scope.localeCompare(b.scope));
  const byRoi = acc.filter((s) => s.scope.startsWith('roi:') && s.scope.includes('|category:'));
  const data = categories.map((s) => ({
    label: s.scope.slice('category:'.length),
    value: s.value,
    err: errOf(s.value, s.ciLow, s.ciHigh),
    prior: baseline(s, 'prior'),
    chance: baseline(s, 'chance'),
  }));
  return (
    <>
      {overall ? (
        <p data-testid="overall-score">
          Overall (macro average over categories): <strong>{fmt(overall.value)}</strong> {ci(overall.ciLow, overall.ciHigh)}; chance {fmt(baseline(overall, 'chance'))}, prior{' '}
          {fmt(baseline(overall, 'prior'))}
        </p>
      ) : null}
      {data.length ? <BarsWithBaselines data={data} title="VQA accuracy per category against prior and chance baselines" yLabel="VQA accuracy" /> : null}
      <table data-testid="vqa-categories">
        <caption>VQA accuracy per question category (95% CIs resampling images)</caption>
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col">Accuracy</th>
            <th scope="col">95% CI</th>
            <th scope="col">Chance</th>
            <th scope="col">Prior</th>
            <th scope="col">Questions</th>
          </tr>
        </thead>
        <tbody>
          {categories.map((s) => (
            <tr key={s.id} data-scope={s.scope}>
              <th scope="row">{s.scope.slice('category:'.length)}</th>
              <td data-col="value">{fmt(s.value)}</td>
              <td>{ci(s.ciLow, s.ciHigh)}</td>
              <td data-col="chance">{fmt(baseline(s, 'chance'))}</td>
              <td data-col="prior">{fmt(baseline(s, 'prior'))}</td>
              <td>{s.n ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {byRoi.length ? (
        <table>
          <caption>Region-restricted decoders: accuracy per ROI and category</caption>
          <thead>
            <tr>
              <th scope="col">ROI</th>
              <th scope="col">Category</th>
              <th scope="col">Accuracy</th>
              <th scope="col">95% CI</th>
              <th scope="col">Chance</th>
            </tr>
          </thead>
          <tbody>
            {byRoi.map((s) => {
              const [roi, cat] = s.scope.split('|');
              return (
                <tr key={s.id}>
                  <th scope="row">{roi.slice(4)}</th>
                  <td>{cat.slice('category:'.length)}</td>
                  <td>{fmt(s.value)}</td>
                  <td>{ci(s.ciLow, s.ciHigh)}</td>
                  <td>{fmt(baseline(s, 'chance'))}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
