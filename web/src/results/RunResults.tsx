// The results view for a run's kind; runs still open or without scores say so.
import type { RunData } from '../pages/Run';
import { Empty } from '../components/common';
import { EncodingResults } from './Encoding';
import { InContextResults } from './InContext';
import { CausalResults } from './Causal';
import { VqaResults } from './Vqa';
import { LayerSweepResults } from './LayerSweep';
import { BrainMapPanel } from '../components/BrainMap';
import { RsaResults } from './Rsa';

export function RunResults({ run }: { run: RunData }) {
  const body = (() => {
    if (run.status !== 'SUCCEEDED') return <Empty>Results appear when the run has succeeded (now {run.status}).</Empty>;
    switch (run.kind) {
      case 'ENCODING_RIDGE':
        return <EncodingResults scores={run.scores} />;
      case 'ENCODING_ICL':
        return <InContextResults scores={run.scores} />;
      case 'CAUSAL_TEST':
        return <CausalResults runId={run.id} />;
      case 'VQA_EVAL':
        return <VqaResults scores={run.scores} />;
      case 'LAYER_SWEEP':
        return <LayerSweepResults runId={run.id} />;
      case 'REPRESENTATIONAL_SIMILARITY':
        return <RsaResults runId={run.id} />;
      default:
        return <Empty>This kind of run checks and imports data; it has no scores to plot.</Empty>;
    }
  })();
  return (
    <section aria-labelledby="results-title" className="results">
      <h2 id="results-title">Results</h2>
      {body}
      {run.status === 'SUCCEEDED' ? <BrainMapPanel runId={run.id} /> : null}
    </section>
  );
}

export type ScoreData = RunData['scores'][number];
export const NO_RESULTS = 'No results of this kind yet.';
