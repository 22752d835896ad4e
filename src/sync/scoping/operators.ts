// The scoping operators Entra documents (Graph names; the portal's spaced spellings such as
// "NOT EQUALS" are accepted too). Every clause is false when the attribute is null or empty, except
// IS_NULL (true then). Multi-valued attributes are unsupported by Entra; here every value must pass
// (multivaluedComparisonType All).
import { compileRegex, regexMatches } from '../expression/index.js';

export type AttributeType = 'String' | 'Integer' | 'Reference' | 'Binary' | 'Boolean' | 'DateTime';

export interface FilterOperatorSchema {
  id: string;
  name: string;
  arity: 'Binary' | 'Unary';
  multivaluedComparisonType: 'All' | 'Any';
  supportedAttributeTypes: AttributeType[];
}

interface OperatorSpec {
  name: string;
  arity: 'Binary' | 'Unary';
  types: AttributeType[];
  /** Checks the clause value when the filter is saved; returns a message when it is unusable. */
  checkValue?: (v: string) => string | undefined;
  /** Called with a non-empty attribute value (as text) and the clause value. */
  test: (attr: string, value: string) => boolean;
}

const INTEGER = /^[+-]?\d{1,15}$/;
const integerValue = (v: string) => (INTEGER.test(v.trim()) ? undefined : `'${v}' is not an integer`);
const regexValue = (v: string) => {
  try {
    compileRegex(v);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : 'invalid regular expression';
  }
};
const bothIntegers = (a: string, b: string, f: (x: number, y: number) => boolean) =>
  INTEGER.test(a.trim()) && INTEGER.test(b.trim()) && f(Number(a), Number(b));
const bits = (a: string, b: string) =>
  INTEGER.test(a.trim()) && INTEGER.test(b.trim()) && (BigInt(a.trim()) & BigInt(b.trim())) !== 0n;

const STRINGY: AttributeType[] = ['String', 'Integer', 'Reference', 'Binary', 'Boolean', 'DateTime'];

const specs: OperatorSpec[] = [
  { name: 'EQUALS', arity: 'Binary', types: STRINGY, test: (a, v) => a === v },
  { name: 'NOT_EQUALS', arity: 'Binary', types: STRINGY, test: (a, v) => a !== v },
  { name: 'IS_TRUE', arity: 'Unary', types: ['Boolean'], test: (a) => a.trim().toLowerCase() === 'true' },
  { name: 'IS_FALSE', arity: 'Unary', types: ['Boolean'], test: (a) => a.trim().toLowerCase() === 'false' },
  // IS_NULL / IS_NOT_NULL are decided before `test` (null or empty); see clauseResult.
  { name: 'IS_NULL', arity: 'Unary', types: STRINGY, test: () => false },
  { name: 'IS_NOT_NULL', arity: 'Unary', types: STRINGY, test: () => true },
  {
    name: 'REGEX_MATCH',
    arity: 'Binary',
    types: ['String', 'Integer', 'Reference'],
    checkValue: regexValue,
    // Unanchored (.NET IsMatch): `([1-9][0-9])` also matches 123, whatever the portal's help says.
    test: (a, v) => regexMatches(compileRegex(v), a),
  },
  {
    name: 'NOT_REGEX_MATCH',
    arity: 'Binary',
    types: ['String', 'Integer', 'Reference'],
    checkValue: regexValue,
    test: (a, v) => !regexMatches(compileRegex(v), a),
  },
  { name: 'Includes', arity: 'Binary', types: ['String'], test: (a, v) => a.includes(v) },
  { name: 'ENDS_WITH', arity: 'Binary', types: ['String'], test: (a, v) => a.endsWith(v) },
  {
    name: 'Greater_Than',
    arity: 'Binary',
    types: ['Integer'],
    checkValue: integerValue,
    test: (a, v) => bothIntegers(a, v, (x, y) => x > y),
  },
  {
    name: 'Greater_Than_OR_EQUALS',
    arity: 'Binary',
    types: ['Integer'],
    checkValue: integerValue,
    test: (a, v) => bothIntegers(a, v, (x, y) => x >= y),
  },
  // `&` / `!&`: Entra's one-line description ("the evaluated attribute exists in the input value") was
  // never clarified (MicrosoftDocs/azure-docs#74934, #91161). We read them as the bit test their symbol
  // names, on integers (e.g. a flags attribute `& 2`); a non-integer attribute makes the clause false.
  { name: '&', arity: 'Binary', types: ['Integer'], checkValue: integerValue, test: bits },
  { name: '!&', arity: 'Binary', types: ['Integer'], checkValue: integerValue, test: (a, v) => INTEGER.test(a.trim()) && !bits(a, v) },
];

const byName = new Map(specs.map((s) => [s.name, s]));

/** The operator named in a clause: Graph's name, or the portal's spelling with spaces. */
export function operatorOf(name: string): OperatorSpec | undefined {
  return byName.get(name) ?? byName.get(name.trim().replace(/\s+/g, '_'));
}

export type { OperatorSpec };

/** Graph's GET …/schema/filterOperators items. */
export const filterOperators: FilterOperatorSchema[] = specs.map((s) => ({
  id: s.name,
  name: s.name,
  arity: s.arity,
  multivaluedComparisonType: 'All',
  supportedAttributeTypes: s.types,
}));
