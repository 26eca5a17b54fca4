import type { ChangeFeed } from '../db/change-feed';
import type { Db } from '../db/client';
import { superuser, type Viewer } from '../access/viewer';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';

export interface Context {
  services: Services;
  db: Db;
  viewer: Viewer;
  loaders: Loaders;
  /** Committed-change feed of the API's database, when it has one (src/db/change-feed.ts). */
  changes?: ChangeFeed;
}

/**
 * Builds the per-request context for the viewer the request authenticated as (src/auth). Code
 * inside the service (seeding, jobs) omits the viewer and acts as an operator of the default lab.
 */
export function createContext(services: Services, viewer: Viewer = superuser(services.defaultLabId)): Context {
  return { services, db: services.db, viewer, loaders: createLoaders(services.db, viewer) };
}
