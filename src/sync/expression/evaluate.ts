// Tree-walking evaluator. Parse once, evaluate per object: nothing here re-parses text or compiles a
// literal regex (Replace patterns are compiled when parsed and cached by text).
import { type CompareOp, type ExprNode, type ExprValue, evalError } from './ast.js';
import { functionSpec } from './catalog.js';
import {
  type AttributeReader,
  DROP,
  type Env,
  type EvalContext,
  isNullish,
  isSentinel,
  SKIP,
  str,
  truthy,
  type Val,
} from './values.js';

export type MappingOutcome =
  | { readonly kind: 'value'; readonly value: ExprValue }
  /** IgnoreAttributeFlow / IgnoreFlowIfNullOrEmpty: leave the target attribute out of this flow. */
  | { readonly kind: 'ignoreAttribute' }
  /** IgnoreObjectFlow: skip the whole object. */
  | { readonly kind: 'ignoreObject' };

/** Unambiguous (no backtracking blow-up on long digit runs); numbers longer than 32 compare as text. */
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const isNumber = (s: string) => s.length <= 32 && NUMBER.test(s);

function numberValue(text: string): string {
  return text.startsWith('&') ? String(Number.parseInt(text.slice(2), 16)) : text;
}

function compare(op: CompareOp, a: Val, b: Val): boolean {
  // Entra: "if a source attribute used in the condition is null or empty the condition check fails".
  if (isNullish(a) || isNullish(b) || a === '' || b === '') {
    throw evalError(`The condition '${op}' has a null or empty operand, so it cannot be evaluated.`);
  }
  let c: number;
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    if (op !== '=' && op !== '<>') throw evalError(`Booleans can only be compared with = and <>.`);
    c = truthy(a) === truthy(b) ? 0 : 1;
  } else {
    const sa = str(a, op)!;
    const sb = str(b, op)!;
    if (isNumber(sa.trim()) && isNumber(sb.trim())) c = Math.sign(Number(sa) - Number(sb));
    else c = sa === sb ? 0 : sa < sb ? -1 : 1;
  }
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
  }
}

function makeEnv(read: AttributeReader, ctx: EvalContext): Env {
  const env: Env = {
    read,
    ctx,
    eval(n: ExprNode | null): Val {
      if (!n) return null;
      switch (n.type) {
        case 'attribute': {
          const v = read(n.name);
          return v === undefined ? null : v;
        }
        case 'string':
          return n.value;
        case 'number':
          return numberValue(n.text);
        case 'keyword':
          return n.name === 'IgnoreAttributeFlow' ? DROP : n.name === 'IgnoreObjectFlow' ? SKIP : n.name;
        case 'compare': {
          const a = env.eval(n.left);
          if (isSentinel(a)) return a;
          const b = env.eval(n.right);
          if (isSentinel(b)) return b;
          return compare(n.op, a, b);
        }
        case 'call': {
          const f = functionSpec(n.name);
          if (!f) throw evalError(`Unknown function '${n.name}'.`);
          if (f.lazy) return f.lazy(n.args, env);
          const vals: Val[] = new Array(n.args.length);
          for (let i = 0; i < n.args.length; i++) {
            const v = env.eval(n.args[i] ?? null);
            if (v === SKIP) return SKIP;
            if (v === DROP) return DROP;
            vals[i] = v;
          }
          return f.strict!(vals, env);
        }
      }
    },
  };
  return env;
}

/** Evaluates a mapping's expression, telling apart a value from the flow sentinels. */
export function evaluateMapping(n: ExprNode, read: AttributeReader, ctx: EvalContext): MappingOutcome {
  const v = makeEnv(read, ctx).eval(n);
  if (v === DROP) return { kind: 'ignoreAttribute' };
  if (v === SKIP) return { kind: 'ignoreObject' };
  return { kind: 'value', value: v };
}

/** The expression's value. IgnoreAttributeFlow and IgnoreObjectFlow both read as null here; the
 *  engine calls evaluateMapping to tell them apart. Throws ExpressionError on evaluation errors. */
export function evaluateExpression(n: ExprNode, read: AttributeReader, ctx: EvalContext): ExprValue {
  const r = evaluateMapping(n, read, ctx);
  return r.kind === 'value' ? r.value : null;
}
