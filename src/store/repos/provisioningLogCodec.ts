// The provisioning log's on-disk encoding (migration 012). A mesh writes one entry per user per job per
// cycle, so the log outgrew the directory it describes (~3 KB per B2B member, bench measurement 6). An entry
// is now:
//   - its id as 16 bytes (a UUIDv7: byte order is time order, as the text's was), and no `at` column: the
//     id's 48-bit millisecond stamp is the entry's activityDateTime (logRow stamps it so);
//   - the source user's id as 16 bytes (equality filters only);
//   - what the run had in common (cycle, service principal and target names, ...) once per run in
//     provisioning_log_runs, and the job and service principal ids once per job in provisioning_log_jobs;
//   - the rest of the entry as JSON, deflated with a preset dictionary of the keys and values every entry
//     repeats, behind a format byte so a later format can sit beside this one.
// The format is frozen: migration 012 writes it too. A change means a new format byte, not an edit.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isCanonicalUuid = (s: string): boolean => UUID.test(s);

/** A canonical (lowercase, dashed) UUID as its 16 bytes. */
export function uuidBytes(id: string): Buffer {
  if (!UUID.test(id)) throw new Error(`not a canonical UUID: ${id}`);
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

export function uuidText(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The millisecond stamp of a UUIDv7 as Graph's activityDateTime. */
export const uuidTime = (b: Uint8Array): string => new Date(Buffer.from(b.buffer, b.byteOffset, b.byteLength).readUIntBE(0, 6)).toISOString();

/** The smallest (`edge` 0) or largest (`edge` 0xff) 16-byte id stamped `ms`: a time bound as a key bound. */
export function idBoundAt(ms: number, edge: 0 | 0xff): Buffer {
  const b = Buffer.alloc(16, edge);
  b.writeUIntBE(Math.min(Math.max(Math.trunc(ms), 0), 2 ** 48 - 1), 0, 6);
  return b;
}

/**
 * A source object id: 16 bytes when it is a canonical UUID (every id the directory gives), otherwise a zero
 * byte and its UTF-8, padded so it is never 16 bytes long. Compared for equality only.
 */
export function sourceIdBytes(id: string): Buffer {
  if (UUID.test(id)) return uuidBytes(id);
  const b = Buffer.concat([Buffer.from([0]), Buffer.from(id, 'utf8')]);
  return b.length === 16 ? Buffer.concat([b, Buffer.from([0])]) : b;
}

export function sourceIdText(b: Uint8Array): string {
  if (b.byteLength === 16) return uuidText(b);
  const text = Buffer.from(b.buffer, b.byteOffset + 1, b.byteLength - 1);
  return (b.byteLength === 17 && text.at(-1) === 0 ? text.subarray(0, -1) : text).toString('utf8');
}

// What every entry's JSON repeats (logEntry's stored keys, the attributes a CTS job maps, its constant values).
// Deflate finds back-references into it, so an entry pays a few bits for each instead of the bytes.
const DICTIONARY = Buffer.from([
  '"e":{"code":"', '","message":"', '","failure":false}', '","failure":true}', 'SkipReason', 'TooManyDeletes',
  '"oldValue":null', '"newValue":null', '"oldValue":"False"', '"oldValue":"True"', '"newValue":"False"', '"newValue":"True"',
  '"companyName"', '"employeeId"', '"officeLocation"', '"city"', '"country"', '"state"', '"streetAddress"', '"postalCode"',
  '"mobilePhone"', '"businessPhones"', '"preferredLanguage"', '"usageLocation"', '"otherMails"',
  '"accountEnabled"', '"department"', '"givenName"', '"jobTitle"', '"mailNickname"', '"surname"', '"mail"',
  '"showInAddressList"', '"userType","oldValue":"Guest","newValue":"Member"}', '"userType"', '"Member"', '"Guest"',
  '"externalUserState"', '"PendingAcceptance"', '"Accepted"',
  '{"displayName":"userPrincipalName","oldValue":null,"newValue":"',
  '#EXT#@', '"sit":"unmatched"', '"sit":"linked"', '"sit":"unlinked"', '"sit":"disputed"', '"sit":"deleted"',
  '"ent":{"active":false,"assigned":false,"scope":{"inScope":false,"results":{}}}',
  '"ent":{"active":true,"assigned":true,"scope":{"inScope":true,"results":{}}},"m":[{"displayName":"accountEnabled","oldValue":null,"newValue":"True"},{"displayName":"',
  '"},"t":{"id":"', '","displayName":"', '","upn":"', '{"s":{"displayName":"', '"d":0}', ',"d":',
].join(''));

const FORMAT_DEFLATE_V1 = 1;
// Output buffers near an entry's size: zlib's default 16 KB chunk per call was most of a page read's garbage.

/** The entry's JSON text as stored. */
export function packEntry(json: string): Buffer {
  return Buffer.concat([Buffer.from([FORMAT_DEFLATE_V1]), deflateRawSync(json, { dictionary: DICTIONARY, level: 9, chunkSize: 1024 })]);
}

export function unpackEntry(b: Uint8Array): string {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf[0] !== FORMAT_DEFLATE_V1) throw new Error(`unknown provisioning log entry format ${buf[0]}`);
  return inflateRawSync(buf.subarray(1), { dictionary: DICTIONARY, chunkSize: 4096 }).toString('utf8');
}
