// The OData query language as Graph speaks it ($filter, $search, $orderby, $select), as frozen tagged
// nodes. Parsers (api/graph/odata) build them, the store compiles them to SQL (store/query), and
// stringify turns them back into text that parses to the same tree. Also the string folding rules
// (case, reversal, prefix bounds, search tokens) that the writers of the `*_lc`, `*_rev` and
// search_tokens columns and the query compiler must share, or a stored value and a literal would
// never meet.

// ---------------------------------------------------------------------------------------------
// $filter

export type Literal =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' }
  /** Unquoted GUID, kept as written. */
  | { readonly kind: 'guid'; readonly value: string }
  /** Unquoted DateTimeOffset (`2024-01-31T08:00:00Z`), kept as written; normalized when compiled. */
  | { readonly kind: 'dateTimeOffset'; readonly value: string };

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type StringFunction = 'startsWith' | 'endsWith';

/**
 * A property reference. `['displayName']` at top level; inside a lambda the first segment is the range
 * variable: `['x']` is the item itself, `['x', 'issuer']` a field of it.
 */
export type Path = readonly string[];

export interface AndNode {
  readonly kind: 'and';
  readonly left: FilterNode;
  readonly right: FilterNode;
}
export interface OrNode {
  readonly kind: 'or';
  readonly left: FilterNode;
  readonly right: FilterNode;
}
export interface NotNode {
  readonly kind: 'not';
  readonly operand: FilterNode;
}
/** `path op literal`. Graph puts the property on the left; so does the grammar. */
export interface CompareNode {
  readonly kind: 'compare';
  readonly op: CompareOp;
  readonly path: Path;
  readonly value: Literal;
}
export interface InNode {
  readonly kind: 'in';
  readonly path: Path;
  readonly values: readonly Literal[];
}
/** `startsWith(path, 'text')` / `endsWith(path, 'text')`. */
export interface CallNode {
  readonly kind: 'call';
  readonly fn: StringFunction;
  readonly path: Path;
  readonly value: Literal;
}
/** `collection/any(x: body)`; `collection/any()` has no variable and no body. */
export interface LambdaNode {
  readonly kind: 'lambda';
  readonly quantifier: 'any' | 'all';
  readonly collection: Path;
  readonly variable: string | null;
  readonly body: FilterNode | null;
}

export type FilterNode = AndNode | OrNode | NotNode | CompareNode | InNode | CallNode | LambdaNode;

// ---------------------------------------------------------------------------------------------
// $search, $orderby, $select

/**
 * One quoted search term. `"displayName:ann smi"` → property `displayName`, text `ann smi`. A term
 * without `prop:` parses (property null) so the tree can describe any input, but directory objects
 * reject it when compiled: Graph only searches directory objects by named property.
 */
export interface SearchTerm {
  readonly kind: 'term';
  readonly property: string | null;
  readonly text: string;
}
export interface SearchBinary {
  readonly kind: 'and' | 'or';
  readonly left: SearchNode;
  readonly right: SearchNode;
}
export type SearchNode = SearchTerm | SearchBinary;

export interface OrderBy {
  readonly property: string;
  readonly direction: 'asc' | 'desc';
}

export type Select = readonly string[];

// ---------------------------------------------------------------------------------------------
// Node builders: every node is frozen, so a parsed query can be cached and shared safely.

const freeze = <T extends object>(o: T): T => Object.freeze(o);
const path = (p: readonly string[]): Path => Object.freeze([...p]);

export const lit = {
  string: (value: string): Literal => freeze({ kind: 'string', value }),
  number: (value: number): Literal => freeze({ kind: 'number', value }),
  boolean: (value: boolean): Literal => freeze({ kind: 'boolean', value }),
  null: (): Literal => freeze({ kind: 'null' }),
  guid: (value: string): Literal => freeze({ kind: 'guid', value }),
  dateTimeOffset: (value: string): Literal => freeze({ kind: 'dateTimeOffset', value }),
};

export const node = {
  and: (left: FilterNode, right: FilterNode): AndNode => freeze({ kind: 'and', left, right }),
  or: (left: FilterNode, right: FilterNode): OrNode => freeze({ kind: 'or', left, right }),
  not: (operand: FilterNode): NotNode => freeze({ kind: 'not', operand }),
  compare: (op: CompareOp, p: readonly string[], value: Literal): CompareNode =>
    freeze({ kind: 'compare', op, path: path(p), value }),
  in: (p: readonly string[], values: readonly Literal[]): InNode =>
    freeze({ kind: 'in', path: path(p), values: Object.freeze([...values]) }),
  call: (fn: StringFunction, p: readonly string[], value: Literal): CallNode =>
    freeze({ kind: 'call', fn, path: path(p), value }),
  lambda: (
    quantifier: 'any' | 'all',
    collection: readonly string[],
    variable: string | null,
    body: FilterNode | null,
  ): LambdaNode => freeze({ kind: 'lambda', quantifier, collection: path(collection), variable, body }),
  term: (property: string | null, text: string): SearchTerm => freeze({ kind: 'term', property, text }),
  search: (kind: 'and' | 'or', left: SearchNode, right: SearchNode): SearchBinary => freeze({ kind, left, right }),
  orderBy: (property: string, direction: 'asc' | 'desc' = 'asc'): OrderBy => freeze({ property, direction }),
};

// ---------------------------------------------------------------------------------------------
// String folding shared by writers and the query compiler.

/** Graph compares directory strings case-insensitively; columns hold this form. */
export const foldCase = (s: string): string => s.toLowerCase();

/** Reverse by code point (not UTF-16 unit), so a reversed column stays valid text and endsWith is a prefix on it. */
export const reverseText = (s: string): string => Array.from(s).reverse().join('');

const MAX_CODE_POINT = 0x10ffff;

/**
 * The smallest string greater than every string starting with `prefix`, in code-point order (SQLite
 * BINARY and PostgreSQL "C" collation both compare UTF-8 bytes, which is code-point order). Lets a
 * prefix test be the range `col >= prefix AND col < bound`, which any B-tree answers; LIKE would not
 * use the index on PostgreSQL without text_pattern_ops, nor on SQLite without case_sensitive_like.
 * Returns null when no bound exists (prefix made only of U+10FFFF): then `col >= prefix` alone is right.
 */
export function prefixUpperBound(prefix: string): string | null {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (cps.length > 0) {
    const last = cps.pop() ?? 0;
    if (last < MAX_CODE_POINT) {
      let next = last + 1;
      // Surrogate code points can't be encoded in UTF-8; the next real character is U+E000.
      if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
      return String.fromCodePoint(...cps, next);
    }
  }
  return null;
}

type CharClass = 'upper' | 'lower' | 'letter' | 'digit' | 'mark' | 'sep';

function classify(ch: string): CharClass {
  if (/\p{Lu}|\p{Lt}/u.test(ch)) return 'upper';
  if (/\p{Ll}/u.test(ch)) return 'lower';
  if (/\p{L}/u.test(ch)) return 'letter';
  if (/\p{N}/u.test(ch)) return 'digit';
  // Combining marks belong to the letter before them ("e" + U+0301 is one letter).
  if (/\p{M}/u.test(ch)) return 'mark';
  return 'sep';
}

/**
 * Graph's tokenized search split: whitespace and symbols separate tokens, and so do a letter↔digit
 * boundary and a lower→upper case change, so "AnnieSmith2" → ["annie", "smith", "2"]. Tokens are
 * case-folded and deduplicated (first occurrence order). Used to write search_tokens rows and to
 * split a search term into the pieces that must each prefix-match some token.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let current = '';
  let prev: CharClass = 'sep';
  const flush = () => {
    if (current !== '') {
      const t = foldCase(current);
      if (!seen.has(t)) {
        seen.add(t);
        out.push(t);
      }
    }
    current = '';
  };
  for (const ch of text) {
    const cls = classify(ch);
    if (cls === 'mark') {
      if (current !== '') current += ch;
      continue;
    }
    if (cls === 'sep') {
      flush();
      prev = 'sep';
      continue;
    }
    const isDigit = cls === 'digit';
    const wasDigit = prev === 'digit';
    const boundary =
      prev !== 'sep' && (isDigit !== wasDigit || (prev === 'lower' && cls === 'upper'));
    if (boundary) flush();
    current += ch;
    prev = cls;
  }
  flush();
  return out;
}
