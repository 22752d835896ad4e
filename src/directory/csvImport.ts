// Bulk-add CSV files as the admin portals write them, mapped to Graph user bodies and validated row by row,
// pure (no store): the CLI and the web console share it. Two layouts are read:
//   - the Microsoft 365 admin center's "Add multiple users" file: a header row of plain names
//     (User Name, First Name, …, Country or Region; "Alternate email address" is optional);
//   - the Entra admin center's bulk-create template: a `version:v1.0` line, headers that carry the Graph
//     property in brackets (`User name [userPrincipalName] Required`), and an `Example:` row to skip.
// Every problem is reported with the file line of its row and the column it is in; the caller decides
// what to do with a file that has any (the CLI imports nothing).
import { randomBytes, randomInt } from 'node:crypto';
import { CsvError, parse } from 'csv-parse/sync';
import { type User, validatePasswordComplexity, validateUpn, writableUserProperties } from '../domain/user.js';

/** The admin center's columns, in its order, and the user property each one fills. */
export const M365_COLUMNS = [
  ['User Name', 'userPrincipalName'],
  ['First Name', 'givenName'],
  ['Last Name', 'surname'],
  ['Display Name', 'displayName'],
  ['Job Title', 'jobTitle'],
  ['Department', 'department'],
  ['Office Number', 'officeLocation'],
  ['Office Phone', 'businessPhones'],
  ['Mobile Phone', 'mobilePhone'],
  ['Fax', 'faxNumber'],
  ['Alternate email address', 'otherMails'],
  ['Address', 'streetAddress'],
  ['City', 'city'],
  ['State or Province', 'state'],
  ['ZIP or Postal Code', 'postalCode'],
  ['Country or Region', 'country'],
] as const;

// The Entra template's bracketed names that are not Graph user properties of the same name.
const ENTRA_ALIASES: Record<string, string> = {
  passwordProfile: 'password',
  accountEnabled: 'blockSignIn',
  physicalDeliveryOfficeName: 'officeLocation',
  telephoneNumber: 'businessPhones',
  mobile: 'mobilePhone',
  facsimileTelephoneNumber: 'faxNumber',
};
const ENTRA_PLAIN = new Set([
  'displayName', 'userPrincipalName', 'givenName', 'surname', 'jobTitle', 'department', 'usageLocation', 'streetAddress', 'state',
  'country', 'city', 'postalCode', 'companyName', 'employeeId', 'mailNickname',
]);

/** Rows a file may hold; larger files are split (a bound on memory and on the one import transaction). */
export const MAX_CSV_ROWS = 100_000;

export type CsvLayout = 'm365' | 'entra';

export interface CsvProblem {
  /** 1-based line of the file the row starts on (a quoted field may span lines). */
  line: number;
  /** The column's header as written in the file; null for a problem with the whole row or file. */
  column: string | null;
  message: string;
}

export interface CsvUser {
  line: number;
  /** A Graph create body without passwordProfile. */
  body: Record<string, unknown>;
  /** The file's own initial password (Entra layout), already checked for complexity. */
  password?: string;
}

export interface ParsedUserCsv {
  layout: CsvLayout;
  users: CsvUser[];
  problems: CsvProblem[];
}

interface Column {
  header: string;
  prop: string;
}

/** Columns an export adds after the admin center's; an import of the export skips them. */
export const EXPORT_EXTRA_COLUMNS = ['Object Id', 'User Type', 'Kind', 'Account Enabled'] as const;

const normalize = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');
const m365ByHeader = new Map(M365_COLUMNS.map(([h, p]) => [normalize(h), p as string]));
const exportOnly = new Set(EXPORT_EXTRA_COLUMNS.map(normalize));

function columnsOf(headers: string[], layout: CsvLayout, line: number, problems: CsvProblem[]): Column[] {
  const columns: Column[] = [];
  const seen = new Set<string>();
  for (const header of headers) {
    let prop: string | undefined;
    if (layout === 'entra') {
      const name = /\[([A-Za-z]+)\]/.exec(header)?.[1];
      prop = name ? (ENTRA_ALIASES[name] ?? (ENTRA_PLAIN.has(name) ? name : undefined)) : undefined;
    } else {
      prop = m365ByHeader.get(normalize(header));
      if (prop === undefined && exportOnly.has(normalize(header))) continue;
    }
    if (!prop) {
      problems.push({ line, column: header, message: 'unknown column' });
      continue;
    }
    if (seen.has(prop)) problems.push({ line, column: header, message: 'the column appears twice' });
    seen.add(prop);
    columns.push({ header, prop });
  }
  const required = layout === 'entra' ? ['displayName', 'userPrincipalName', 'password', 'blockSignIn'] : ['userPrincipalName', 'displayName'];
  for (const r of required) {
    if (!seen.has(r)) problems.push({ line, column: null, message: `the file has no ${r === 'password' ? 'initial password' : r} column` });
  }
  return columns;
}

const fieldSchema = writableUserProperties as unknown as Record<string, { safeParse(v: unknown): { success: boolean } }>;
const limits: Record<string, number> = {
  userPrincipalName: 113, displayName: 256, givenName: 64, surname: 64, jobTitle: 128, department: 64, officeLocation: 128, businessPhones: 64,
  mobilePhone: 64, faxNumber: 64, otherMails: 256, streetAddress: 1024, city: 128, state: 128, postalCode: 40, country: 128, usageLocation: 2,
  companyName: 64, employeeId: 16, mailNickname: 64,
};

/**
 * Parses and validates a bulk-add file: layout, headers, required fields, Graph field lengths, UPN form and
 * domain (one of `domains`), and UPNs repeated within the file. Whether a UPN is already taken in the
 * directory is the importer's check (it runs in the import's transaction).
 */
export function parseUserCsv(input: string | Buffer, domains: readonly string[]): ParsedUserCsv {
  const problems: CsvProblem[] = [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // Line breaks become LF first: csv-parse counts a CRLF inside quotes as two lines. Fields keep LF.
    const text = (typeof input === 'string' ? input : input.toString('utf8')).replace(/\r\n?/g, '\n');
    records = parse(text, {
      bom: true, relax_column_count: true, skip_empty_lines: true, info: true, trim: false,
      // A bound on one field (Graph's longest is 1,024) keeps a malformed quote from swallowing the file.
      max_record_size: 64 * 1024,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    if (e instanceof CsvError) {
      const line = (e as CsvError & { lines?: number }).lines ?? 0;
      return { layout: 'm365', users: [], problems: [{ line, column: null, message: `not a readable CSV file: ${e.message}` }] };
    }
    throw e;
  }
  // info.lines is the line a record ends on; less the line breaks inside its quoted fields, where it starts.
  for (const r of records) r.info.lines -= r.record.reduce((n, c) => n + (c.match(/\n/g)?.length ?? 0), 0);
  const rows = records.filter((r) => r.record.some((c) => c.trim() !== ''));
  if (rows.length === 0) return { layout: 'm365', users: [], problems: [{ line: 1, column: null, message: 'the file is empty' }] };
  let layout: CsvLayout = 'm365';
  let at = 0;
  if (/^version:/i.test(rows[0]!.record[0]?.trim() ?? '')) {
    if (!/^version:v1\.0$/i.test(rows[0]!.record[0]!.trim())) {
      problems.push({ line: rows[0]!.info.lines, column: null, message: `unsupported template ${rows[0]!.record[0]!.trim()} (expected version:v1.0)` });
    }
    layout = 'entra';
    at = 1;
  }
  const headerRow = rows[at];
  if (!headerRow) return { layout, users: [], problems: [{ line: rows[0]!.info.lines, column: null, message: 'the file has no header row' }] };
  const headerLine = headerRow.info.lines;
  const columns = columnsOf(headerRow.record, layout, headerLine, problems);
  at++;
  if (layout === 'entra' && /^example:/i.test(rows[at]?.record[0]?.trim() ?? '')) at++;
  if (rows.length - at > MAX_CSV_ROWS) {
    problems.push({ line: rows[at + MAX_CSV_ROWS]!.info.lines, column: null, message: `more than ${MAX_CSV_ROWS} rows; split the file` });
    return { layout, users: [], problems };
  }
  if (problems.length) return { layout, users: [], problems };

  const users: CsvUser[] = [];
  const upns = new Map<string, number>();
  for (const { record, info } of rows.slice(at)) {
    const line = info.lines;
    const rowProblems: CsvProblem[] = [];
    const problem = (column: string | null, message: string) => rowProblems.push({ line, column, message });
    if (record.length > headerRow.record.length) problem(null, `${record.length} fields, the header has ${headerRow.record.length}`);
    const body: Record<string, unknown> = { accountEnabled: true };
    let password: string | undefined;
    for (let i = 0; i < columns.length; i++) {
      const { header, prop } = columns[i]!;
      const idx = headerRow.record.indexOf(header);
      const value = (record[idx] ?? '').trim();
      if (prop === 'password') {
        if (!value) problem(header, 'required');
        else {
          try {
            validatePasswordComplexity(value);
            password = value;
          } catch (e) {
            problem(header, (e as Error).message);
          }
        }
        continue;
      }
      if (prop === 'blockSignIn') {
        if (/^(yes|true)$/i.test(value)) body.accountEnabled = false;
        else if (!/^(no|false)$/i.test(value)) problem(header, 'Yes or No');
        continue;
      }
      if (!value) {
        if (prop === 'userPrincipalName' || prop === 'displayName') problem(header, 'required');
        continue;
      }
      const max = limits[prop];
      if (max !== undefined && value.length > max) {
        problem(header, `${value.length} characters; at most ${max}`);
        continue;
      }
      const v = prop === 'businessPhones' || prop === 'otherMails' ? [value] : value;
      if (!fieldSchema[prop]?.safeParse(v).success) {
        problem(header, `not a valid ${prop}`);
        continue;
      }
      body[prop] = v;
    }
    const upn = typeof body.userPrincipalName === 'string' ? body.userPrincipalName : undefined;
    const upnHeader = columns.find((c) => c.prop === 'userPrincipalName')?.header ?? null;
    if (upn) {
      try {
        validateUpn(upn, domains);
      } catch (e) {
        problem(upnHeader, `${upn}: ${(e as Error).message}`);
      }
      const first = upns.get(upn.toLowerCase());
      if (first !== undefined) problem(upnHeader, `${upn} is also on line ${first}`);
      else upns.set(upn.toLowerCase(), line);
      body.mailNickname ??= upn.slice(0, upn.lastIndexOf('@')).slice(0, 64);
    }
    if (rowProblems.length) problems.push(...rowProblems);
    else users.push({ line, body, ...(password ? { password } : {}) });
  }
  if (users.length === 0 && problems.length === 0) problems.push({ line: headerLine, column: null, message: 'the file has no users' });
  return { layout, users, problems };
}

const PASSWORD_ALPHABETS = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!@#$%^&*-_=+?'];

/**
 * A temporary password as the admin center hands out: 16 characters from all four classes (complexity
 * passes by construction), from the CSPRNG, without look-alike characters.
 */
export function temporaryPassword(): string {
  const all = PASSWORD_ALPHABETS.join('');
  const chars = PASSWORD_ALPHABETS.map((a) => a[randomInt(a.length)]!);
  const bytes = randomBytes(12);
  for (const b of bytes) chars.push(all[b % all.length]!);
  // Fisher–Yates, so the four guaranteed classes are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** A user's kind as the CLI and console mark it: internal, or B2B (invited or synchronized) member or guest. */
export type UserKind = 'internal' | 'internalGuest' | 'b2bMember' | 'b2bGuest';

export function userKind(u: Pick<User, 'userType' | 'userPrincipalName'> & { creationType?: unknown; externalUserState?: unknown }): UserKind {
  const b2b = u.creationType === 'Invitation' || u.externalUserState != null || /#EXT#@/i.test(u.userPrincipalName);
  if (b2b) return u.userType === 'Guest' ? 'b2bGuest' : 'b2bMember';
  return u.userType === 'Guest' ? 'internalGuest' : 'internal';
}


const csvField = (v: string) => (/[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The header row of an export: the admin center's layout (so the file imports again) and the marking columns. */
export function exportCsvHeader(extra: boolean): string {
  return `${[...M365_COLUMNS.map(([h]) => h), ...(extra ? EXPORT_EXTRA_COLUMNS : [])].map(csvField).join(',')}\r\n`;
}

/** One user as an export row (CRLF-terminated, as the admin center writes). */
export function exportCsvRow(u: User, extra: boolean): string {
  const cells = M365_COLUMNS.map(([, prop]) => {
    const v = (u as Record<string, unknown>)[prop];
    if (Array.isArray(v)) return String(v[0] ?? '');
    return v == null ? '' : String(v);
  });
  if (extra) cells.push(u.id, String(u.userType ?? 'Member'), userKind(u), String(u.accountEnabled !== false));
  return `${cells.map(csvField).join(',')}\r\n`;
}
