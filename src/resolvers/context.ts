import type { Db } from '../db/client';
import { superuser, type Viewer } from '../domain/access';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';

export interface Context {
  services: Services;
  db: Db;
  viewer: Viewer;
  loaders: Loaders;
}

/**
 * Builds the per-request context. Until API tokens exist every client acts as an operator of
 * this installation writing to its default lab; the access module is where that tightens.
 */
export function createContext(services: Services, viewer: Viewer = superuser(services.defaultLabId)): Context {
  return { services, db: services.db, viewer, loaders: createLoaders(services.db) };
}
