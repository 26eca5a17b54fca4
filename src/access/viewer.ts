// Who a request acts as. Below the domain: authentication (src/auth) builds viewers, the site
// exchange (src/sites) reads as one, and the domain checks them (src/domain/access.ts).
export type Role = 'viewer' | 'submitter' | 'admin';

export interface Viewer {
  /** Operators of this installation (the embedded default runs as one) see and change everything. */
  superuser: boolean;
  /** The lab that writes go to when a mutation names none. */
  defaultLabId?: string;
  /** Lab memberships and the role in each. */
  roles: Map<string, Role>;
  /** The user and token a request authenticated as (absent for anonymous clients). */
  userId?: string;
  tokenId?: string;
  /**
   * Told when a lookup by id answers NOT_FOUND. Hidden and missing objects look alike to clients;
   * the log still shows who asked for what (another lab's private ids, guessed ids).
   */
  onNotFound?: (what: string, id: string) => void;
}

export const anonymous: Viewer = { superuser: false, roles: new Map() };

export function superuser(defaultLabId?: string): Viewer {
  return { superuser: true, defaultLabId, roles: new Map() };
}
