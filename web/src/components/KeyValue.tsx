// Parameters, provenance and other JSON objects as a readable key/value table (nested objects as
// nested tables, long lists shortened, long values wrapped), with the exact JSON behind a toggle.
import type { ReactNode } from 'react';
import { JsonView } from './common';

const LIST_SHOWN = 12;
const MAX_DEPTH = 3;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPrimitive = (v: unknown) => v === null || typeof v !== 'object';

function primitive(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return String(v);
}

function Value({ value, depth }: { value: unknown; depth: number }): ReactNode {
  if (isPrimitive(value)) return primitive(value);
  if (Array.isArray(value)) {
    if (!value.length) return <span className="empty">none</span>;
    if (value.every(isPrimitive)) {
      const shown = value.slice(0, LIST_SHOWN).map(primitive).join(', ');
      return value.length > LIST_SHOWN ? `${value.length} items: ${shown}, … (${value.length - LIST_SHOWN} more in the raw JSON)` : shown;
    }
    if (depth >= MAX_DEPTH) return <code>{JSON.stringify(value)}</code>;
    return (
      <ol className="kv-list">
        {value.map((item, i) => (
          <li key={i}>
            <Value value={item} depth={depth + 1} />
          </li>
        ))}
      </ol>
    );
  }
  if (depth >= MAX_DEPTH) return <code>{JSON.stringify(value)}</code>;
  return <Rows value={value as Record<string, Json>} depth={depth + 1} />;
}

function Rows({ value, depth, label }: { value: Record<string, Json>; depth: number; label?: string }) {
  const keys = Object.keys(value);
  if (!keys.length) return <span className="empty">none</span>;
  return (
    <table className="kv" aria-label={label}>
      <tbody>
        {keys.map((k) => (
          <tr key={k} data-key={k}>
            <th scope="row">{k}</th>
            <td>
              <Value value={value[k]} depth={depth} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * `value` as a key/value table labelled `tableLabel`, then a "Raw JSON" toggle holding the exact
 * JSON (labelled `label`, as JsonView is elsewhere).
 */
export function KeyValueView({ value, label, tableLabel }: { value: unknown; label: string; tableLabel: string }) {
  return (
    <div className="kv-view">
      {isObject(value) ? <Rows value={value} depth={0} label={tableLabel} /> : <p aria-label={tableLabel}>{isPrimitive(value) ? primitive(value) : <Value value={value} depth={0} />}</p>}
      <details className="raw-json">
        <summary>Raw JSON</summary>
        <JsonView value={value} label={label} />
      </details>
    </div>
  );
}
