// Short explanations next to the numbers they concern: metric names with their definitions on
// hover, and the note that ceiling-normalised values above 1 are kept on purpose.
import { ABOVE_CEILING_NOTE, metricDefinition, metricLabel, NORMALISED_DEFINITION } from '../lib/metrics';

/** A metric key shown in words, its definition on hover. */
export function MetricName({ metric }: { metric: string }) {
  return (
    <abbr className="metric" title={metricDefinition(metric)} data-metric={metric}>
      {metricLabel(metric)}
    </abbr>
  );
}

/** "Normalised" as a column header or label, with what normalisation means on hover. */
export function NormalisedName({ children = 'Normalised' }: { children?: string }) {
  return (
    <abbr className="metric" title={NORMALISED_DEFINITION}>
      {children}
    </abbr>
  );
}

/** Says why values above 1 are shown, only when some are. */
export function AboveCeilingNote({ values }: { values: (number | null | undefined)[] }) {
  const above = values.filter((v): v is number => typeof v === 'number' && v > 1);
  if (!above.length) return null;
  return (
    <p className="note" role="note" data-testid="above-ceiling-note">
      <strong>
        {above.length} normalised {above.length === 1 ? 'value is' : 'values are'} above 1 (up to {Math.max(...above).toFixed(3)}).
      </strong>{' '}
      {ABOVE_CEILING_NOTE}
    </p>
  );
}

/** Table-cell attributes that flag a normalised value above the ceiling without changing its text. */
export const aboveCeiling = (v: number | null | undefined) => (typeof v === 'number' && v > 1 ? { className: 'above-ceiling', title: 'Above the estimated noise ceiling (see the note)' } : {});
