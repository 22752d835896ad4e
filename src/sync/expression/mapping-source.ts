// AST ⇄ Graph's attributeMappingSource tree `{expression, name, type, parameters:[{key, value}]}`.
// Attribute: name = attribute name. Constant: name = the value (numbers by their text; keywords such
// as vbTextCompare by their name, told apart by `expression`). Function: parameters keyed by the
// catalog's parameter names, omitted arguments absent, repeating parameters repeated in order.
// Comparisons (no Graph counterpart is documented) are Functions named by the operator with keys
// `left` and `right`.
import { errors } from '../../domain/errors.js';
import {
  COMPARE_OPS,
  type CompareOp,
  type ExprNode,
  ExpressionError,
  KEYWORDS,
  MAX_ATTRIBUTE_NAME,
  MAX_DEPTH,
  MAX_EXPRESSION_LENGTH,
  node,
} from './ast.js';
import { checkCall, depthError, functionSpec } from './catalog.js';
import { parseExpression } from './parser.js';
import { stringifyExpression } from './stringify.js';

export interface AttributeMappingSource {
  expression: string | null;
  name: string | null;
  type: 'Attribute' | 'Constant' | 'Function';
  parameters: { key: string; value: AttributeMappingSource }[];
}

export function nodeToMappingSource(n: ExprNode): AttributeMappingSource {
  const expression = stringifyExpression(n);
  switch (n.type) {
    case 'attribute':
      return { expression, name: n.name, type: 'Attribute', parameters: [] };
    case 'string':
      return { expression, name: n.value, type: 'Constant', parameters: [] };
    case 'number':
      return { expression, name: n.text, type: 'Constant', parameters: [] };
    case 'keyword':
      return { expression, name: n.name, type: 'Constant', parameters: [] };
    case 'compare':
      return {
        expression,
        name: n.op,
        type: 'Function',
        parameters: [
          { key: 'left', value: nodeToMappingSource(n.left) },
          { key: 'right', value: nodeToMappingSource(n.right) },
        ],
      };
    case 'call': {
      const spec = functionSpec(n.name);
      const keys = spec ? argumentKeys(n.name, n.args.length) : [];
      const parameters = n.args.flatMap((a, i) =>
        a ? [{ key: keys[i] ?? `arg${i + 1}`, value: nodeToMappingSource(a) }] : [],
      );
      return { expression, name: n.name, type: 'Function', parameters };
    }
  }
}

/** The parameter name of each positional slot (repeating parameters cycle). */
function argumentKeys(name: string, count: number): string[] {
  const spec = functionSpec(name)!;
  if (name === 'FormatDateTime' && count === 3) return ['source', 'inputFormat', 'outputFormat'];
  const fixed = spec.params.filter((p) => !p.multiple).map((p) => p.name);
  const repeat = spec.params.filter((p) => p.multiple).map((p) => p.name);
  return Array.from({ length: count }, (_, i) =>
    i < fixed.length ? fixed[i]! : (repeat[(i - fixed.length) % Math.max(1, repeat.length)] ?? `arg${i + 1}`),
  );
}

const bad = (message: string) => errors.badRequest(`Invalid attributeMappingSource: ${message}`);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Graph JSON → AST, validated (unknown functions, arity, regexes, bounds): DomainError 400. */
export function mappingSourceToNode(src: unknown): ExprNode {
  let size = 0;
  const walk = (s: unknown, depth: number, isRoot: boolean): ExprNode => {
    if (depth > MAX_DEPTH) throw depthError(-1);
    if (!isObj(s)) throw bad('expected an object');
    if (++size > MAX_EXPRESSION_LENGTH) throw bad('the tree is too large');
    const { type, name, expression, parameters } = s;
    if (typeof name !== 'string' && name !== null && name !== undefined) throw bad("'name' must be a string");
    if (typeof expression !== 'string' && expression !== null && expression !== undefined) {
      throw bad("'expression' must be a string");
    }
    if (typeof expression === 'string' && expression.length > MAX_EXPRESSION_LENGTH) {
      throw bad(`'expression' is longer than ${MAX_EXPRESSION_LENGTH} characters`);
    }
    if (parameters !== undefined && parameters !== null && !Array.isArray(parameters)) {
      throw bad("'parameters' must be an array");
    }
    const params = (parameters ?? []) as unknown[];
    switch (type) {
      case 'Attribute':
        if (typeof name !== 'string' || !name.trim() || name.length > MAX_ATTRIBUTE_NAME || /[[\]]/.test(name)) {
          throw bad(`an Attribute needs a name of 1 to ${MAX_ATTRIBUTE_NAME} characters without '[' or ']'`);
        }
        return node.attribute(name);
      case 'Constant': {
        const value = typeof name === 'string' ? name : '';
        if (typeof expression === 'string' && expression.trim() === value) {
          if (KEYWORDS.has(value)) return node.keyword(value);
          if (/^(-?\d+(\.\d+)?|&[hH][0-9a-fA-F]{1,16})$/.test(value)) return node.number(value);
        }
        return node.string(value);
      }
      case 'Function': {
        if (typeof name !== 'string' || !name) throw bad('a Function needs a name');
        if (COMPARE_OPS.includes(name as CompareOp)) {
          const left = params.find((p) => isObj(p) && p.key === 'left');
          const right = params.find((p) => isObj(p) && p.key === 'right');
          if (!isObj(left) || !isObj(right) || params.length !== 2) {
            throw bad(`the comparison '${name}' needs the parameters 'left' and 'right'`);
          }
          return node.compare(name as CompareOp, walk(left.value, depth + 1, false), walk(right.value, depth + 1, false));
        }
        const spec = functionSpec(name);
        if (!spec) checkCall(name, [], -1, isRoot); // throws the unknown-function error
        // No parameters but an expression: the tree was sent as text only.
        if (params.length === 0 && spec!.min > 0 && typeof expression === 'string' && expression.trim()) {
          const parsed = parseExpression(expression);
          if (parsed.type !== 'call' || parsed.name !== name) throw bad(`'expression' is not a call of ${name}`);
          return parsed;
        }
        const args = argumentsOf(name, params, (v) => walk(v, depth + 1, false));
        checkCall(name, args, -1, isRoot);
        return node.call(name, args);
      }
      default:
        throw bad("'type' must be Attribute, Constant or Function");
    }
  };
  try {
    const root = walk(src, 0, true);
    if (stringifyExpression(root).length > MAX_EXPRESSION_LENGTH) {
      throw bad(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
    }
    return root;
  } catch (e) {
    if (e instanceof ExpressionError) throw errors.badRequest(`Invalid attributeMappingSource: ${e.message}`, e.code);
    throw e;
  }
}

/** Places keyed parameters back in their positional slots. */
function argumentsOf(name: string, params: unknown[], walk: (v: unknown) => ExprNode): (ExprNode | null)[] {
  const spec = functionSpec(name)!;
  const keyOf = (k: string) => {
    const lk = k.toLowerCase();
    return spec.params.find((p) => p.name.toLowerCase() === lk || p.aliases?.some((a) => a.toLowerCase() === lk));
  };
  const fixed = spec.params.filter((p) => !p.multiple);
  const repeat = spec.params.filter((p) => p.multiple);
  const slots: (ExprNode | null)[] = new Array(fixed.length).fill(null);
  const repeated: Map<string, ExprNode[]> = new Map(repeat.map((p) => [p.name, []]));
  for (const raw of params) {
    if (!isObj(raw) || typeof raw.key !== 'string') throw bad(`${name}: every parameter needs a 'key'`);
    const p = keyOf(raw.key);
    if (!p) throw bad(`${name} has no parameter '${raw.key}'`);
    const value = walk(raw.value);
    if (p.multiple) repeated.get(p.name)!.push(value);
    else {
      const i = fixed.indexOf(p);
      if (slots[i]) throw bad(`${name}: parameter '${p.name}' is given twice`);
      slots[i] = value;
    }
  }
  if (name === 'FormatDateTime' && !slots[1]) return [slots[0] ?? null, slots[2] ?? null, slots[3] ?? null];
  const runs = repeat.map((p) => repeated.get(p.name)!);
  const rounds = Math.max(0, ...runs.map((r) => r.length));
  for (let r = 0; r < rounds; r++) for (const run of runs) slots.push(run[r] ?? null);
  // Trailing omitted optional slots are dropped; interior ones stay as empty arguments.
  while (slots.length > spec.min && slots[slots.length - 1] === null) slots.pop();
  // Omitted repeating arguments have no key to travel under: pad back to the arity as omitted slots.
  while (slots.length < spec.min && slots.length > 0) slots.push(null);
  return slots;
}
