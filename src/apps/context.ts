// What the apps room's use cases run with, and its one body parser.
import type { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { errors } from '../domain/errors.js';
import type { Db, Store } from '../store/store.js';

export interface AppsContext {
  store: Store;
  clock: Clock;
  /**
   * Runs inside the transaction that deletes a service principal (directly, or with its application),
   * before the principal's row goes: synchronization removes the principal's jobs and secrets here.
   */
  onDelete?: (db: Db, tenantId: string, spId: string) => Promise<void>;
  /** Woken after a committed assignment change, so the sync engine can look at the change log now. */
  wake?: (topic: string, tenantId: string) => void;
}

export interface BodySpec {
  /** Graph type name for messages, e.g. `servicePrincipal`. */
  type: string;
  /** Every declared property: the ones not in `writable` are read-only here. */
  declared: ReadonlySet<string>;
  writable: Readonly<Record<string, z.ZodType>>;
}

/** Validates a JSON object body property by property, with Graph's messages; `@odata.*` keys are ignored. */
export function parseBody(spec: BodySpec, body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('The request body must be a JSON object.');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue;
    const schema = spec.writable[key];
    if (!schema) {
      if (spec.declared.has(key) || key === 'id') throw errors.badRequest(`Property '${key}' is read-only and cannot be set.`);
      throw errors.badRequest(`Property '${key}' does not exist on type 'microsoft.graph.${spec.type}'.`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw errors.badRequest(`Invalid value specified for property '${key}' of resource '${spec.type}'.`);
    out[key] = parsed.data;
  }
  return out;
}
