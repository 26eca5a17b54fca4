// Relay cursor pagination over (createdAt, id), which is stable while rows are added.
import { badInput } from '../errors';

export const MAX_PAGE = 100;

interface Row {
  id: string;
  createdAt: Date;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

export function encodeCursor(row: Row): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw badInput(`Malformed cursor ${JSON.stringify(cursor)}`, 'after');
  return { createdAt, id };
}

/** `where` fragment for rows after the cursor in (createdAt, id) order. */
function afterWhere(after?: string | null, descending = false): Record<string, unknown> {
  if (!after) return {};
  const c = decodeCursor(after);
  const op = descending ? 'lt' : 'gt';
  return { OR: [{ createdAt: { [op]: c.createdAt } }, { createdAt: c.createdAt, id: { [op]: c.id } }] };
}

/** The two Prisma delegate methods pagination needs (e.g. `db.dataset`). */
export interface Delegate<T> {
  findMany(args: { where: any; orderBy: any; take: number }): Promise<T[]>;
  count(args: { where: any }): Promise<number>;
}

export async function paginate<T extends Row>(
  delegate: Delegate<T>,
  where: Record<string, unknown>,
  first: number | null | undefined,
  after: string | null | undefined,
  /** Newest first: (createdAt, id) descending, the cursor continuing towards older rows. */
  descending = false,
): Promise<Page<T>> {
  const take = first ?? 20;
  if (!Number.isInteger(take) || take < 0 || take > MAX_PAGE)
    throw badInput(`first must be an integer between 0 and ${MAX_PAGE} (got ${take})`, 'first');
  const [rows, totalCount] = await Promise.all([
    delegate.findMany({ where: { AND: [where, afterWhere(after, descending)] }, orderBy: descending ? [{ createdAt: 'desc' }, { id: 'desc' }] : [{ createdAt: 'asc' }, { id: 'asc' }], take: take + 1 }),
    delegate.count({ where }),
  ]);
  const hasNextPage = rows.length > take;
  const edges = rows.slice(0, take).map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    totalCount,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: Boolean(after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
