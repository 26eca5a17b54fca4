// A run's per-voxel outputs as slice montages in the subject's brain space (axial, coronal and
// sagittal slices through the mask, a colour bar and ROI outlines), for subjects created from a
// mask; renders nothing for runs whose subject has no brain space. The NIfTI of the same map is one
// link away, for FSLeyes or nilearn.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { BrainMapOutputsQuery, BrainMapQuery } from '../generated/graphql';
import { BrainMapDoc, BrainMapOutputsDoc } from '../graphql/brain-maps';
import { decodeFloat32, decodeMaskIjk } from '../lib/brain-map-data';
import { colourOf, css, OUTSIDE, scaleFor, type ColourScale } from '../lib/colormap';
import { fmt } from '../lib/format';
import { useQuery } from '../lib/use-query';
import { ErrorBox, Loading } from './common';

type MapAnswer = NonNullable<NonNullable<BrainMapQuery['run']>['brainMap']>;
/** A map with its compact fields decoded: values (NaN where none) and each voxel's (i, j, k). */
type MapData = Omit<MapAnswer, 'valuesFloat32' | 'maskBits'> & { values: Float32Array; voxelIjk: Int32Array };

function decodeMap({ valuesFloat32, maskBits, ...rest }: MapAnswer): MapData {
  return { ...rest, values: decodeFloat32(valuesFloat32), voxelIjk: decodeMaskIjk(maskBits, rest.subject.space!.shape, rest.nVoxels) };
}
type Output = NonNullable<BrainMapOutputsQuery['run']>['brainMapOutputs'][number];

const PREFERRED = ['pearsonR', 'bestLayer', 'causalClass', 'inContextExplainedVariance', 'explainedVariance', 'noiseCeiling'];
const ROI_COLOURS = ['#ff7f00', '#00d5ff', '#ff3cd0', '#2ecc40', '#ffffff', '#ff0000', '#0000ff', '#a0522d'];
const SLICES_PER_VIEW = 5;
/** Slices are drawn about this many pixels across, at a whole number of pixels per voxel. */
const SLICE_PX = 132;

/** Which voxel axis each view fixes, and which two it shows (across, up). */
export const VIEWS = [
  { axis: 'axial', fixed: 2, across: 0, up: 1, name: 'k' },
  { axis: 'coronal', fixed: 1, across: 0, up: 2, name: 'j' },
  { axis: 'sagittal', fixed: 0, across: 1, up: 2, name: 'i' },
] as const;

export function BrainMapPanel({ runId }: { runId: string }) {
  const { data } = useQuery<BrainMapOutputsQuery, { id: string }>(BrainMapOutputsDoc, { id: runId });
  const outputs = data?.run?.brainMapOutputs ?? [];
  if (!outputs.length) return null;
  return <BrainMapSection runId={runId} outputs={outputs} />;
}

function BrainMapSection({ runId, outputs }: { runId: string; outputs: Output[] }) {
  const names = outputs.map((o) => o.name);
  const [output, setOutput] = useState(PREFERRED.find((p) => names.includes(p)) ?? names[0]);
  const [row, setRow] = useState(0);
  const nRows = outputs.find((o) => o.name === output)?.nRows ?? 1;
  const shownRow = Math.min(row, nRows - 1);
  const { data, error, stale } = useQuery<BrainMapQuery, { id: string; output: string; row: number }>(BrainMapDoc, { id: runId, output, row: shownRow });
  // A map drawn for the previous output must never appear under the new output's name.
  const answer = stale ? undefined : data?.run?.brainMap;
  const map = useMemo(() => (answer ? decodeMap(answer) : undefined), [answer]);
  return (
    <section aria-labelledby="brain-map-title" className="brain-map" data-testid="brain-map">
      <h3 id="brain-map-title">Brain map</h3>
      <div className="filters">
        <label>
          Output
          <select value={output} onChange={(e) => (setOutput(e.target.value), setRow(0))}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        {nRows > 1 ? (
          <label>
            Row (0 to {nRows - 1})
            <input type="number" min={0} max={nRows - 1} value={shownRow} onChange={(e) => setRow(Math.max(0, Math.min(nRows - 1, Number(e.target.value) || 0)))} />
          </label>
        ) : null}
      </div>
      {error && !map ? <ErrorBox error={error} /> : !map ? <Loading what="brain map" /> : <BrainMapView map={map} output={output} />}
    </section>
  );
}

interface Volume {
  shape: [number, number, number];
  values: Float32Array;
  /** 0 outside the mask, 1 + ROI index inside an ROI, -1 in the mask outside every ROI. */
  labels: Int16Array;
}

function buildVolume(map: MapData): Volume {
  const [nx, ny, nz] = map.subject.space!.shape as [number, number, number];
  const values = new Float32Array(nx * ny * nz).fill(NaN);
  const labels = new Int16Array(nx * ny * nz);
  const at = (v: number) => map.voxelIjk[3 * v] + nx * (map.voxelIjk[3 * v + 1] + ny * map.voxelIjk[3 * v + 2]);
  map.values.forEach((x, v) => {
    values[at(v)] = x;
    labels[at(v)] = -1;
  });
  map.subject.rois.forEach((roi, r) => roi.voxelIndices.forEach((v) => labels[at(v)] === -1 && (labels[at(v)] = r + 1)));
  return { shape: [nx, ny, nz], values, labels };
}

/** Evenly spaced slices through the mask's extent along `axis`, away from its edges. */
export function slicePositions(voxelIjk: ArrayLike<number>, axis: number, count = SLICES_PER_VIEW): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let v = axis; v < voxelIjk.length; v += 3) {
    lo = Math.min(lo, voxelIjk[v]);
    hi = Math.max(hi, voxelIjk[v]);
  }
  if (lo > hi) return [];
  const n = Math.min(count, hi - lo + 1);
  return [...new Set(Array.from({ length: n }, (_, q) => Math.round(lo + ((hi - lo) * (q + 1)) / (n + 1))))];
}

function BrainMapView({ map, output }: { map: MapData; output: string }) {
  const volume = useMemo(() => buildVolume(map), [map]);
  const scale = scaleFor(map.min ?? null, map.max ?? null);
  const px = Math.max(6, Math.floor(SLICE_PX / Math.max(...volume.shape)));
  const roiMeans = map.subject.rois.map((roi) => {
    const xs = roi.voxelIndices.map((v) => map.values[v]).filter(Number.isFinite);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  });
  return (
    <div className="brain-map-body">
      {VIEWS.map((view) => (
        <figure key={view.axis} className="montage" data-testid={`montage-${view.axis}`}>
          <figcaption>
            {view.axis[0].toUpperCase() + view.axis.slice(1)} slices ({view.name} = {slicePositions(map.voxelIjk, view.fixed).join(', ')}); voxel axes {'ijk'[view.across]} across, {'ijk'[view.up]}{' '}
            up
          </figcaption>
          <div className="slices">
            {slicePositions(map.voxelIjk, view.fixed).map((s) => (
              <Slice key={s} volume={volume} view={view} slice={s} scale={scale} px={px} />
            ))}
          </div>
        </figure>
      ))}
      <ColourBar scale={scale} label={output} />
      <table data-testid="brain-map-numbers">
        <caption>
          {output}
          {map.nRows > 1 ? ` (row ${map.row})` : ''} of {map.subject.name} in brain space
        </caption>
        <tbody>
          <tr>
            <th scope="row">Colour scale</th>
            <td data-col="scale-low">{fmt(scale.low)}</td>
            <td data-col="scale-high">{fmt(scale.high)}</td>
            <td>{scale.kind === 'diverging' ? 'diverging, symmetric about 0' : 'sequential'}</td>
          </tr>
          <tr>
            <th scope="row">Map range</th>
            <td data-col="min">{fmt(map.min)}</td>
            <td data-col="max">{fmt(map.max)}</td>
            <td />
          </tr>
          <tr>
            <th scope="row">Voxels</th>
            <td data-col="voxels">{map.nVoxels}</td>
            <td data-col="finite">{map.nFinite} with a value</td>
            <td>grid {volume.shape.join(' × ')}</td>
          </tr>
        </tbody>
      </table>
      <table data-testid="brain-map-rois">
        <caption>ROI outlines and the mean of {output} over each ROI's voxels with a value</caption>
        <thead>
          <tr>
            <th scope="col">ROI</th>
            <th scope="col">Voxels</th>
            <th scope="col">Mean</th>
          </tr>
        </thead>
        <tbody>
          {map.subject.rois.map((roi, r) => (
            <tr key={roi.name} data-roi={roi.name}>
              <th scope="row">
                <span className="swatch" style={{ borderColor: ROI_COLOURS[r % ROI_COLOURS.length] }} aria-hidden="true" /> {roi.name}
              </th>
              <td data-col="voxels">{roi.voxelIndices.length}</td>
              <td data-col="mean">{fmt(roiMeans[r])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <a href={map.niftiUrl} download={map.nifti.filename} data-testid="nifti-link">
          Download {map.nifti.filename}
        </a>{' '}
        (float32 NIfTI in the subject's space, NaN outside the mask: open it in FSLeyes or nilearn)
      </p>
    </div>
  );
}

function Slice({ volume, view, slice, scale, px }: { volume: Volume; view: (typeof VIEWS)[number]; slice: number; scale: ColourScale; px: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const w = volume.shape[view.across];
  const h = volume.shape[view.up];
  useEffect(() => {
    const g = ref.current?.getContext('2d');
    if (!g) return;
    const [nx, ny] = volume.shape;
    const index = (a: number, b: number) => {
      const ijk = [0, 0, 0];
      ijk[view.fixed] = slice;
      ijk[view.across] = a;
      ijk[view.up] = b;
      return ijk[0] + nx * (ijk[1] + ny * ijk[2]);
    };
    const label = (a: number, b: number) => (a < 0 || b < 0 || a >= w || b >= h ? 0 : volume.labels[index(a, b)]);
    // Voxel (a, b) fills the px x px square with its lower-left corner at (a, b): b grows upwards.
    const top = (b: number) => (h - 1 - b) * px;
    for (let a = 0; a < w; a++)
      for (let b = 0; b < h; b++) {
        const at = index(a, b);
        g.fillStyle = css(volume.labels[at] === 0 ? OUTSIDE : colourOf(scale, volume.values[at]));
        g.fillRect(a * px, top(b), px, px);
      }
    // ROI outlines: a 2 px line inside each ROI voxel along every edge it shares with a voxel
    // outside that ROI, so the voxel's centre keeps its colour.
    for (let a = 0; a < w; a++)
      for (let b = 0; b < h; b++) {
        const l = label(a, b);
        if (l <= 0) continue;
        g.fillStyle = ROI_COLOURS[(l - 1) % ROI_COLOURS.length];
        if (label(a - 1, b) !== l) g.fillRect(a * px, top(b), 2, px);
        if (label(a + 1, b) !== l) g.fillRect(a * px + px - 2, top(b), 2, px);
        if (label(a, b + 1) !== l) g.fillRect(a * px, top(b), px, 2);
        if (label(a, b - 1) !== l) g.fillRect(a * px, top(b) + px - 2, px, 2);
      }
  }, [volume, view, slice, scale, px, w, h]);
  return (
    <canvas
      ref={ref}
      width={w * px}
      height={h * px}
      data-axis={view.axis}
      data-slice={slice}
      data-px={px}
      role="img"
      aria-label={`${view.axis} slice ${view.name} = ${slice}`}
    />
  );
}

function ColourBar({ scale, label }: { scale: ColourScale; label: string }) {
  const gradient = `linear-gradient(to right, ${scale.stops.map(css).join(', ')})`;
  return (
    <figure className="colour-bar" data-testid="colour-bar">
      <div className="bar" style={{ background: gradient }} />
      <div className="ticks">
        <span data-col="low">{fmt(scale.low)}</span>
        {scale.kind === 'diverging' ? <span>0</span> : null}
        <span data-col="high">{fmt(scale.high)}</span>
      </div>
      <figcaption>
        {label}; grey: no value; dark grey: outside the mask
      </figcaption>
    </figure>
  );
}
