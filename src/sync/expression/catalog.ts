// The function catalog: every documented function (Entra's "functions for customizing application
// data", Graph's schema/functions sample, cross-tenant sync's AltSecIdFromNetId), with Graph's
// parameter schema, arity and implementation. Functions we cannot honour fully say why in `note`.
import { type ExprNode, ExpressionError, MAX_DEPTH, syntaxError } from './ast.js';
import { dateFunctions } from './fn-date.js';
import { logicFunctions } from './fn-logic.js';
import { multiFunctions } from './fn-multi.js';
import { stringFunctions } from './fn-string.js';
import { compileRegex, RegexError } from './regex.js';
import type { AttributeMappingFunctionSchema, FunctionSpec } from './spec.js';

const all: FunctionSpec[] = [...stringFunctions, ...logicFunctions, ...dateFunctions, ...multiFunctions];
const byName = new Map(all.map((f) => [f.name, f]));

export const functionSpec = (name: string): FunctionSpec | undefined => byName.get(name);
export const functionSpecs: readonly FunctionSpec[] = all;

/** Graph's GET …/schema/functions items. */
export const expressionFunctions: AttributeMappingFunctionSchema[] = all.map((f) => ({
  id: f.name,
  name: f.name,
  parameters: f.params.map((p) => ({
    allowMultipleOccurrences: !!p.multiple,
    name: p.name,
    required: !!p.required,
    type: p.type ?? 'String',
  })),
}));

/** Our reading of each function where Entra is silent, and what we cannot honour (for docs and the
 *  console's function picker). */
export const expressionFunctionNotes: Readonly<Record<string, string>> = Object.fromEntries(
  all.filter((f) => f.note).map((f) => [f.name, f.note!]),
);

/** Checks one call the way the parser and the Graph tree converter both need: known function
 *  (names are case-sensitive), arity, required slots, function-specific rules, literal regexes
 *  (compiled now, so a bad pattern is refused when saved, and cached for evaluation). */
export function checkCall(name: string, args: readonly (ExprNode | null)[], pos: number, isRoot: boolean): FunctionSpec {
  const f = byName.get(name);
  const at = (msg: string, code: 'Expression_UnknownFunction' | 'Expression_Arity' = 'Expression_Arity') =>
    pos >= 0 ? syntaxError(pos, msg, code) : new ExpressionError(code, `${msg}.`);
  if (!f) {
    const ci = all.find((x) => x.name.toLowerCase() === name.toLowerCase());
    throw at(`Unknown function '${name}'${ci ? ` (function names are case-sensitive: did you mean '${ci.name}'?)` : ''}`, 'Expression_UnknownFunction');
  }
  if (args.length < f.min || args.length > f.max) {
    const range = f.min === f.max ? `${f.min}` : f.max === Number.POSITIVE_INFINITY ? `at least ${f.min}` : `${f.min} to ${f.max}`;
    throw at(`${name} expects ${range} argument${f.min === 1 && f.max === 1 ? '' : 's'}, got ${args.length}`);
  }
  const fixed = f.params.filter((p) => !p.multiple);
  args.forEach((a, i) => {
    const param = i < fixed.length ? fixed[i] : undefined;
    if (!a && param?.required && !(name === 'FormatDateTime' && args.length === 3 && i === 1)) {
      throw at(`${name} needs its '${param.name}' argument (argument ${i + 1})`);
    }
  });
  if (f.name === 'Switch' && !args[0]) throw at("Switch needs its 'source' argument (argument 1)");
  const why = f.check?.(args);
  if (why) throw at(why);
  if (name === 'SelectUniqueValue' && !isRoot) throw at('SelectUniqueValue must be the whole expression');
  if (name === 'Replace' && args[2]?.type === 'string') {
    try {
      compileRegex(args[2].value);
    } catch (e) {
      if (e instanceof RegexError && pos >= 0) throw syntaxError(pos, e.message.replace(/\.$/, ''), 'Expression_InvalidRegex');
      throw e;
    }
  }
  return f;
}

export const depthError = (pos: number) =>
  pos >= 0
    ? syntaxError(pos, `The expression nests deeper than ${MAX_DEPTH} levels`, 'Expression_TooDeep')
    : new ExpressionError('Expression_TooDeep', `The expression nests deeper than ${MAX_DEPTH} levels.`);
