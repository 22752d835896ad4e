// One tenant's people in memory: each live user's query columns, display-name tokens and the JSON of
// the properties a people-search page shows, with one array per column and per tokenized property kept
// sorted in the order of the matching SQL index. A page is then a binary search and a short walk
// instead of a SQL statement that seeks every row and extracts its properties from stored JSON.
// Pure data structure: what to load and when is cache.ts's.
//
// Layout is for a million users per tenant: each sorted index is two parallel arrays (key, person), and
// short JSON values ("[]", "true", "\"Member\"") are shared, not repeated per user.
import type { Cursor } from '../query/list.js';
import { compareText, lowerBound, upperBound } from './order.js';
import type { Holdings, PeoplePlan, Probe } from './shape.js';

/** A user as read from the store: its query columns, tokens per property, and its renderable properties as JSON text. */
export interface PersonRow {
  id: string;
  columns: Readonly<Record<string, string | null>>;
  tokens: Readonly<Record<string, readonly string[]>>;
  /** JSON text of each property the store holds for it (null, or absent, when the user has none). */
  json: Readonly<Record<string, string | null>>;
}

interface Person {
  readonly id: string;
  /** By position in the holdings' column list. */
  readonly keys: readonly (string | null)[];
  /** By position in the holdings' tokenized-property list. */
  readonly tokens: readonly (readonly string[])[];
  /** JSON text of each renderable property (undefined: absent, rendered as null). */
  readonly json: readonly (string | undefined)[];
  /**
   * The row as last rendered, and for which $select: people search asks the same few shapes again and
   * again, and reading one string is a cache miss where rendering reads five (measured ~30 µs a page
   * when the request's other work has evicted the index from the CPU caches).
   */
  rendered?: { layout: Layout; text: string };
}

interface Layout {
  readonly parts: readonly { prefix: string; at: number }[];
}

/**
 * A column's or a tokenized property's index: key i (the column value, or a token) belongs to
 * people[i]; sorted by (key, id). Parallel arrays keep a binary search to two memory loads a step.
 */
interface SortedIndex {
  keys: string[];
  people: Person[];
}

export interface PeoplePage {
  rows: { id: string; data: string }[];
  next?: Cursor;
}

/** Short JSON values repeat across users; one string each. Bounded so odd data can't grow it forever. */
const SHARED_MAX_LENGTH = 24;
const SHARED_MAX_ENTRIES = 50_000;

// Heap sizes of what the index holds, for `bytes()`: V8 on 64-bit without pointer compression (Node's
// default build). A string is a 16-byte header and its characters (1 byte each when all are Latin-1,
// else 2), rounded to 8; an array is a 32-byte JSArray and a 16-byte FixedArray header plus 8 per slot;
// a Person is 24 bytes of header and 5 in-object fields; a Map entry is ~4 words with its bucket; each
// sorted-index entry is one slot in each of two arrays. Checked against the heap growth of a build
// (bench/peopleMemory.ts): 1,172 estimated vs 1,181 measured bytes per user at 100k users.
const STRING_HEADER = 16;
const ARRAY_BYTES = 48;
const SLOT = 8;
const PERSON_BYTES = 24 + 5 * SLOT;
const MAP_ENTRY_BYTES = 32;
const RENDERED_BYTES = 24 + 2 * SLOT;

/** Any character outside Latin-1: V8 then stores the string two bytes a character. */
const WIDE = /[\u0100-\uffff]/;

function stringBytes(s: string): number {
  return (STRING_HEADER + s.length * (WIDE.test(s) ? 2 : 1) + 7) & ~7;
}

export class TenantPeople {
  private readonly people = new Map<string, Person>();
  private readonly columnNames: readonly string[];
  private readonly tokenNames: readonly string[];
  private readonly renderNames: readonly string[];
  private readonly columnAt: ReadonlyMap<string, number>;
  private readonly tokenAt: ReadonlyMap<string, number>;
  private readonly renderAt: ReadonlyMap<string, number>;
  private readonly byColumn: SortedIndex[];
  private readonly byToken: SortedIndex[];
  private readonly shared = new Map<string, string>();
  /** `"key":` prefixes and value positions per $select, built once per distinct list. */
  private readonly layouts = new Map<string, Layout>();
  /** True while a build appends unsorted; `seal` sorts once. */
  private loading = true;
  /** Estimated heap held (see stringBytes and the sizes above it), kept as users come and go. */
  private held = 0;

  constructor(holdings: Holdings) {
    this.columnNames = [...holdings.columns];
    this.tokenNames = [...holdings.tokenProps];
    this.renderNames = [...holdings.renderable];
    const positions = (names: readonly string[]) => new Map(names.map((n, i) => [n, i]));
    this.columnAt = positions(this.columnNames);
    this.tokenAt = positions(this.tokenNames);
    this.renderAt = positions(this.renderNames);
    this.byColumn = this.columnNames.map(() => ({ keys: [], people: [] }));
    this.byToken = this.tokenNames.map(() => ({ keys: [], people: [] }));
  }

  get size(): number {
    return this.people.size;
  }

  /** Estimated heap this index holds, in bytes: its people, their strings, sorted indexes and cached rows. */
  bytes(): number {
    return this.held;
  }

  private personBytes(person: Person): number {
    let n = PERSON_BYTES + MAP_ENTRY_BYTES + stringBytes(person.id);
    n += ARRAY_BYTES + SLOT * person.keys.length;
    for (const key of person.keys) if (key !== null) n += stringBytes(key) + 2 * SLOT;
    n += ARRAY_BYTES + SLOT * person.tokens.length;
    for (const list of person.tokens) {
      n += ARRAY_BYTES + SLOT * list.length;
      for (const token of list) n += stringBytes(token) + 2 * SLOT;
    }
    n += ARRAY_BYTES + SLOT * person.json.length;
    // Shared values are counted once, when they enter the shared table.
    for (const text of person.json) if (text !== undefined && this.shared.get(text) !== text) n += stringBytes(text);
    if (person.rendered) n += RENDERED_BYTES + stringBytes(person.rendered.text);
    return n;
  }

  /** Sorts what a build appended; from here on every change keeps the arrays sorted. */
  seal(): void {
    for (const index of [...this.byColumn, ...this.byToken]) {
      const order = index.keys.map((_, i) => i);
      order.sort((a, b) => compareText(index.keys[a] as string, index.keys[b] as string) || compareText((index.people[a] as Person).id, (index.people[b] as Person).id));
      index.keys = order.map((i) => index.keys[i] as string);
      index.people = order.map((i) => index.people[i] as Person);
    }
    this.loading = false;
  }

  /** Adds or replaces a live user. */
  put(row: PersonRow): void {
    this.remove(row.id);
    const person: Person = {
      rendered: undefined,
      id: row.id,
      keys: this.columnNames.map((c) => row.columns[c] ?? null),
      tokens: this.tokenNames.map((p) => [...(row.tokens[p] ?? [])]),
      json: this.renderNames.map((k) => this.shareJson(row.json[k])),
    };
    this.people.set(row.id, person);
    this.held += this.personBytes(person);
    person.keys.forEach((key, c) => {
      if (key !== null) this.insert(this.byColumn[c] as SortedIndex, key, person);
    });
    person.tokens.forEach((list, t) => {
      for (const token of list) this.insert(this.byToken[t] as SortedIndex, token, person);
    });
  }

  private insert(index: SortedIndex, key: string, person: Person): void {
    if (this.loading) {
      index.keys.push(key);
      index.people.push(person);
      return;
    }
    const at = bound(index, key, person.id);
    index.keys.splice(at, 0, key);
    index.people.splice(at, 0, person);
  }

  /** Drops a user (deleted, soft-deleted, or gone); unknown ids are ignored. */
  remove(id: string): void {
    const person = this.people.get(id);
    if (!person) return;
    this.people.delete(id);
    this.held -= this.personBytes(person);
    person.keys.forEach((key, c) => {
      if (key !== null) drop(this.byColumn[c] as SortedIndex, key, person);
    });
    person.tokens.forEach((list, t) => {
      for (const token of list) drop(this.byToken[t] as SortedIndex, token, person);
    });
  }

  /** One page, as list.ts's branch-by-branch walk would return it. */
  page(plan: PeoplePlan): PeoplePage {
    const limit = plan.top + 1;
    const found: { branch: number; key: string; person: Person }[] = [];
    const after = plan.after;
    for (let b = after?.branch ?? 0; b < plan.probes.length && found.length < limit; b++) {
      const probe = plan.probes[b] as Probe;
      const tokens = probe.kind === 'token' ? (this.tokenAt.get(probe.prop) as number) : -1;
      const index = (probe.kind === 'column' ? this.byColumn[this.columnAt.get(probe.column) as number] : this.byToken[tokens]) as SortedIndex;
      const prefix = probe.kind === 'column' ? probe.prefix : probe.piece;
      let i = bound(index, prefix, '');
      if (after?.branch === b) i = Math.max(i, bound(index, after.key, after.id, true));
      for (; i < index.keys.length && found.length < limit; i++) {
        const key = index.keys[i] as string;
        if (!key.startsWith(prefix)) break;
        const person = index.people[i] as Person;
        // An object with several tokens in the range is taken at its first, as the SQL walk does.
        if (tokens >= 0 && hasEarlierToken(person.tokens[tokens] as readonly string[], key, prefix)) continue;
        if (b > 0 && this.matchesAnyBefore(person, plan.probes, b)) continue;
        found.push({ branch: b, key, person });
      }
    }
    const layout = this.layout(plan.render);
    const rows: PeoplePage['rows'] = [];
    for (let i = 0; i < found.length && i < plan.top; i++) {
      const person = (found[i] as { person: Person }).person;
      let rendered = person.rendered;
      if (rendered?.layout !== layout) {
        const text = render(person, layout);
        this.held += RENDERED_BYTES + stringBytes(text) - (rendered ? RENDERED_BYTES + stringBytes(rendered.text) : 0);
        rendered = { layout, text };
        person.rendered = rendered;
      }
      rows.push({ id: person.id, data: rendered.text });
    }
    const page: PeoplePage = { rows };
    const last = found[plan.top - 1];
    if (found.length > plan.top && last) page.next = { kind: 'after', branch: last.branch, key: last.key, id: last.person.id };
    return page;
  }

  private matchesAnyBefore(person: Person, probes: readonly Probe[], branch: number): boolean {
    for (let j = 0; j < branch; j++) {
      const probe = probes[j] as Probe;
      if (probe.kind === 'column') {
        const key = person.keys[this.columnAt.get(probe.column) as number];
        if (key?.startsWith(probe.prefix)) return true;
      } else {
        const tokens = person.tokens[this.tokenAt.get(probe.prop) as number] as readonly string[];
        for (const t of tokens) if (t.startsWith(probe.piece)) return true;
      }
    }
    return false;
  }

  private shareJson(text: string | null | undefined): string | undefined {
    if (text === undefined || text === null || text === 'null') return undefined;
    if (text.length > SHARED_MAX_LENGTH) return text;
    const known = this.shared.get(text);
    if (known !== undefined) return known;
    if (this.shared.size < SHARED_MAX_ENTRIES) {
      this.shared.set(text, text);
      this.held += stringBytes(text) + MAP_ENTRY_BYTES;
    }
    return text;
  }

  private layout(keys: readonly string[]): Layout {
    const name = keys.join(',');
    let layout = this.layouts.get(name);
    if (!layout) {
      layout = { parts: keys.map((k, i) => ({ prefix: `${i ? ',' : '{'}${JSON.stringify(k)}:`, at: this.renderAt.get(k) ?? -1 })) };
      if (this.layouts.size < 1000) this.layouts.set(name, layout);
    }
    return layout;
  }
}

/** First position not before (key, id); with `past`, the first strictly after it (a cursor's resume point). */
function bound(index: SortedIndex, key: string, id: string, past = false): number {
  const { keys, people } = index;
  return (past ? upperBound : lowerBound)(keys.length, (j) => keys[j] as string, (j) => (people[j] as Person).id, key, id);
}

function drop(index: SortedIndex, key: string, person: Person): void {
  const at = bound(index, key, person.id);
  if (index.people[at] === person) {
    index.keys.splice(at, 1);
    index.people.splice(at, 1);
  }
}

function hasEarlierToken(tokens: readonly string[], token: string, piece: string): boolean {
  for (const t of tokens) if (t !== token && t.startsWith(piece) && compareText(t, token) < 0) return true;
  return false;
}

/** `{"k":value,…}` in the order asked, null where absent: what SQL's json_object(k, data->k, …) returns. */
function render(person: Person, layout: Layout): string {
  if (layout.parts.length === 0) return '{}';
  // join, not +=: the result is one flat string, where concatenation leaves a tree that every response
  // carrying the cached row would walk again.
  const pieces: string[] = [];
  for (const { prefix, at } of layout.parts) pieces.push(prefix, (at < 0 ? undefined : person.json[at]) ?? 'null');
  pieces.push('}');
  return pieces.join('');
}
