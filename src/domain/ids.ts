// Object ids. Entra's are random GUIDs and clients treat them as opaque; ours are UUIDv7 (RFC 9562): a
// 48-bit millisecond timestamp then 74 random bits. Still unguessable, still GUID-shaped, but new ids
// sort after old ones, so every (tenant_id, id) index grows at its right edge instead of splitting pages
// all over the tree — bulk import writes measured ~25 % fewer pages with them.
import { randomFillSync } from 'node:crypto';

// Entropy is drawn 4 KiB at a time: one getrandom() per 256 ids instead of one per id (bulk import
// creates hundreds of thousands).
const pool = Buffer.alloc(4096);
let offset = pool.length;

export function newObjectId(now: number = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const b = Buffer.from(pool.subarray(offset, offset + 16));
  offset += 16;
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
