import { superuser, type Viewer } from '../access/viewer';
import { domainContext, type DomainContext } from '../domain/context';
import type { Services } from '../services';
import { createLoaders, type Loaders } from './loaders';

/** The domain's context and the request's DataLoaders, which nested fields batch through. */
export interface Context extends DomainContext {
  loaders: Loaders;
}

/**
 * Builds the per-request context for the viewer the request authenticated as (src/auth). Code
 * inside the service (seeding, jobs) omits the viewer and acts as an operator of the default lab.
 */
export function createContext(services: Services, viewer: Viewer = superuser(services.defaultLabId)): Context {
  return { ...domainContext(services, viewer), loaders: createLoaders(services.db, viewer) };
}
