// What every domain function acts with: the services, the database, who acts, and the committed
// change feed where the API has one. The GraphQL context (src/resolvers/context.ts) extends it
// with its per-request loaders; operator code (the seed, the demos) builds one with domainContext.
import { superuser, type Viewer } from '../access/viewer';
import type { ChangeFeed } from '../db/change-feed';
import type { Db } from '../db/client';
import type { Services } from '../services';

export interface DomainContext {
  services: Services;
  db: Db;
  viewer: Viewer;
  /** Committed-change feed of the API's database, when it has one (src/db/change-feed.ts). */
  changes?: ChangeFeed;
}

/** A context for `viewer`; without one, an operator of the default lab (seeding, demos, jobs). */
export function domainContext(services: Services, viewer: Viewer = superuser(services.defaultLabId)): DomainContext {
  return { services, db: services.db, viewer };
}
