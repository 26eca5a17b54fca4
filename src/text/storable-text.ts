// Text PostgreSQL can store. Its text and jsonb types refuse U+0000 (error 22021/22P05, which
// would surface as an internal error), and a lone UTF-16 surrogate has no UTF-8 form at all: the
// driver would silently store U+FFFD instead of what the scientist typed. Every way text enters
// the service (GraphQL arguments, CLI manifests, VQA benchmark and answers files, site bundles)
// checks it here, so such input is refused up front with the field that holds it.
import { badInput } from '../errors';

export { findUnstorableText, unstorableTextReason, type UnstorableText } from '../compute/storable-text';
import { findUnstorableText } from '../compute/storable-text';

/** Refuses text PostgreSQL cannot store anywhere in `value`, as BAD_USER_INPUT naming its path. Returns `value`. */
export function checkStorableText<T>(value: T, field: string): T {
  const found = findUnstorableText(value, field);
  if (found) throw badInput(`${found.field} ${found.reason}; remove or replace it`, found.field);
  return value;
}
