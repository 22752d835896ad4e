// Which tenants a restarted server should build people indexes for: those searched shortly before it
// stopped. Memory follows use: building every tenant at start would hold the whole directory, most of it
// for tenants nobody searches. The record is a small JSON file in the data directory, written by the
// server every minute and at stop; a missing or unreadable record means none.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { PeopleIndex } from './cache.js';

interface Record {
  savedAt: string;
  idleSeconds: number;
  tenants: { tenantId: string; lastSearched: string }[];
}

/** Tenants searched within the idle period before the record was saved (they'd still be held had it run on). */
export function recentlySearched(file: string): string[] {
  let rec: Record;
  try {
    rec = JSON.parse(readFileSync(file, 'utf8')) as Record;
  } catch {
    return [];
  }
  const saved = Date.parse(rec.savedAt);
  if (!Number.isFinite(saved) || !Array.isArray(rec.tenants)) return [];
  const since = saved - 1000 * (Number(rec.idleSeconds) || 0);
  return rec.tenants
    .filter((t) => typeof t.tenantId === 'string' && Date.parse(t.lastSearched) >= since)
    .sort((a, b) => Date.parse(b.lastSearched) - Date.parse(a.lastSearched))
    .map((t) => t.tenantId);
}

/** Writes the record (to a temporary file, then renamed, so a crash mid-write leaves the old one). */
export function saveRecentlySearched(file: string, index: PeopleIndex, now: Date): void {
  const status = index.status();
  const rec: Record = {
    savedAt: now.toISOString(),
    idleSeconds: status.idleSeconds,
    tenants: status.tenants.filter((t) => t.status !== 'evicted').map((t) => ({ tenantId: t.tenantId, lastSearched: t.lastSearched })),
  };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(rec)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
