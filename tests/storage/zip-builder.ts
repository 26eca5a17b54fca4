/**
 * Builds zip archives byte by byte for the .npz tests, with the variants numpy's zipfile writes:
 * stored or deflated members, ZIP64 local headers (np.savez forces them), ZIP64 central-directory
 * records, data descriptors (non-seekable output), and an optional ZIP64 end record.
 */
import zlib from 'node:zlib';
import { crc32 } from '../../src/storage/npz';

export interface ZipMemberSpec {
  name: string;
  data: Uint8Array;
  method?: 'stored' | 'deflated';
  /** Local header with 0xFFFFFFFF sizes and a ZIP64 extra field, as np.savez writes. */
  zip64Local?: boolean;
  /** Central record with saturated sizes/offset and a ZIP64 extra field. */
  zip64Central?: boolean;
  /** Sizes and CRC only in a data descriptor after the data (flag bit 3). */
  dataDescriptor?: boolean;
  /** Override the CRC written (to test corruption detection). */
  crc?: number;
  /** Override the extracted size the central directory records (a member that inflates past it). */
  recordedSize?: number;
  /** Replace the stored (compressed) bytes after the header is computed (damaged deflate data). */
  damage?: (body: Buffer) => Buffer;
}

export function buildZip(members: ZipMemberSpec[], opts: { zip64End?: boolean; comment?: string } = {}): Buffer {
  const out: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    out.push(b);
    offset += b.length;
  };
  for (const m of members) {
    const name = Buffer.from(m.name, 'utf8');
    const raw = Buffer.from(m.data);
    const packed = m.method === 'deflated' ? zlib.deflateRawSync(raw) : raw;
    const body = m.damage ? m.damage(Buffer.from(packed)) : packed;
    const crc = m.crc ?? crc32(raw);
    const method = m.method === 'deflated' ? 8 : 0;
    const flags = 0x800 | (m.dataDescriptor ? 0x8 : 0);
    const localOffset = offset;

    const localExtra = m.zip64Local ? zip64Extra([raw.length, body.length]) : Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(m.zip64Local ? 45 : 20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(m.dataDescriptor ? 0 : crc, 14);
    local.writeUInt32LE(m.dataDescriptor ? 0 : m.zip64Local ? 0xffffffff : body.length, 18);
    local.writeUInt32LE(m.dataDescriptor ? 0 : m.zip64Local ? 0xffffffff : raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    push(Buffer.concat([local, name, localExtra, body]));
    if (m.dataDescriptor) {
      const dd = Buffer.alloc(16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      dd.writeUInt32LE(body.length, 8);
      dd.writeUInt32LE(raw.length, 12);
      push(dd);
    }

    const cExtra = m.zip64Central ? zip64Extra([raw.length, body.length, localOffset]) : Buffer.alloc(0);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(m.zip64Central ? 45 : 20, 6);
    c.writeUInt16LE(flags, 8);
    c.writeUInt16LE(method, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(m.zip64Central ? 0xffffffff : body.length, 20);
    c.writeUInt32LE(m.zip64Central ? 0xffffffff : (m.recordedSize ?? raw.length), 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(cExtra.length, 30);
    c.writeUInt32LE(m.zip64Central ? 0xffffffff : localOffset, 42);
    central.push(Buffer.concat([c, name, cExtra]));
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  push(cd);
  if (opts.zip64End) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeUInt16LE(45, 12);
    z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(members.length), 24);
    z.writeBigUInt64LE(BigInt(members.length), 32);
    z.writeBigUInt64LE(BigInt(cd.length), 40);
    z.writeBigUInt64LE(BigInt(cdOffset), 48);
    const zOffset = offset;
    push(z);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(zOffset), 8);
    loc.writeUInt32LE(1, 16);
    push(loc);
  }
  const comment = Buffer.from(opts.comment ?? '', 'latin1');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(opts.zip64End ? 0xffff : members.length, 8);
  end.writeUInt16LE(opts.zip64End ? 0xffff : members.length, 10);
  end.writeUInt32LE(opts.zip64End ? 0xffffffff : cd.length, 12);
  end.writeUInt32LE(opts.zip64End ? 0xffffffff : cdOffset, 16);
  end.writeUInt16LE(comment.length, 20);
  push(Buffer.concat([end, comment]));
  return Buffer.concat(out);
}

function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(1, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return b;
}
