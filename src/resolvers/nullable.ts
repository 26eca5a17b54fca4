/** Nullable single-object queries: a missing or invisible id answers null, not an error. */
export async function orNull<T>(work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (err) {
    if ((err as { extensions?: { code?: string } }).extensions?.code === 'NOT_FOUND') return null;
    throw err;
  }
}
