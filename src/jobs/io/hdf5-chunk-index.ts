// A chunked dataset's index (a version-1 B-tree of chunk keys) read once into typed arrays: each
// chunk's origin in the dataset, file address, stored size and filter mask. For NSD's 700,000
// chunks that is about 22 MB, and every later read knows where every chunk lies.
import { Hdf5CorruptError, type Hdf5File } from './hdf5-format';

export interface ChunkIndex {
  count: number;
  rank: number;
  /** origin[i * rank + d]: chunk i's first element along axis d. */
  origin: Uint32Array;
  address: Float64Array;
  size: Uint32Array;
  /** Bit k set: filter k of the pipeline was not applied to this chunk. */
  mask: Uint32Array;
}

const GUESS = 64;

export function readChunkIndex(file: Hdf5File, btree: number, rank: number, expected: number): ChunkIndex {
  let capacity = Math.max(16, expected);
  const index: ChunkIndex = { count: 0, rank, origin: new Uint32Array(capacity * rank), address: new Float64Array(capacity), size: new Uint32Array(capacity), mask: new Uint32Array(capacity) };
  const grow = () => {
    capacity *= 2;
    const origin = new Uint32Array(capacity * rank);
    origin.set(index.origin);
    const address = new Float64Array(capacity);
    address.set(index.address);
    const size = new Uint32Array(capacity);
    size.set(index.size);
    const mask = new Uint32Array(capacity);
    mask.set(index.mask);
    Object.assign(index, { origin, address, size, mask });
  };
  const O = file.offsetSize;
  const keySize = 8 + 8 * (rank + 1);
  const headSize = 8 + 2 * O;
  // Iterative, so a damaged file whose nodes point at each other cannot recurse without end.
  const pending: [number, number][] = [[btree, -1]];
  let nodes = 0;
  while (pending.length) {
    const [at, level] = pending.pop()!;
    if (++nodes > 64 + 4 * expected) throw new Hdf5CorruptError('the chunk index has more nodes than the dataset has chunks');
    // One read usually holds the whole node (h5py's and MATLAB's hold up to 64 entries).
    let body = file.cursor(at, Math.min(file.size - at, headSize + GUESS * (keySize + O) + keySize), 'a chunk index node');
    if (body.bytes(4).toString('latin1') !== 'TREE' || body.u8() !== 1) throw new Hdf5CorruptError(`no chunk index node at byte ${at}`);
    const nodeLevel = body.u8();
    if (level >= 0 && nodeLevel !== level) throw new Hdf5CorruptError(`the chunk index node at byte ${at} is at level ${nodeLevel}, not ${level}`);
    const n = body.u16();
    const bodySize = n * (keySize + O) + keySize;
    if (headSize + bodySize > body.buf.length) body = file.cursor(at + headSize, bodySize, 'a chunk index node');
    else body.at = headSize;
    const children: number[] = [];
    for (let i = 0; i < n; i++) {
      const size = body.u32();
      const mask = body.u32();
      if (nodeLevel === 0) {
        if (index.count === capacity) grow();
        const k = index.count++;
        for (let d = 0; d < rank; d++) index.origin[k * rank + d] = body.uint(8);
        body.skip(8);
        index.size[k] = size;
        index.mask[k] = mask;
        index.address[k] = body.offset();
        file.checkAddress(index.address[k], `chunk ${index.count} of the dataset`, size);
      } else {
        body.skip(8 * (rank + 1));
        children.push(body.offset());
      }
    }
    // Pushed in reverse so chunks come out in key order (not needed for correctness).
    for (let i = children.length - 1; i >= 0; i--) pending.push([children[i], nodeLevel - 1]);
  }
  return index;
}
