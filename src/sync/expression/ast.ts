// The expression language's tree: frozen tagged nodes built by the parser (or from Graph's
// attributeMappingSource tree) and read by the evaluator, the printer and the Graph converter.
import { DomainError } from '../../domain/errors.js';

export type CompareOp = '=' | '<>' | '>' | '>=' | '<' | '<=';

export type ExprNode =
  | { readonly type: 'attribute'; readonly name: string }
  | { readonly type: 'string'; readonly value: string }
  /** A number as written (`-10`, `1.5`, `&HF7`): Graph keeps numbers as constants named by their text. */
  | { readonly type: 'number'; readonly text: string }
  /** A bare word that is not a call: `vbTextCompare`, `IgnoreAttributeFlow`, … (see KEYWORDS). */
  | { readonly type: 'keyword'; readonly name: string }
  /** `null` in args is an omitted positional argument (`Replace([x], , "re", , "", , )`). */
  | { readonly type: 'call'; readonly name: string; readonly args: readonly (ExprNode | null)[] }
  | { readonly type: 'compare'; readonly op: CompareOp; readonly left: ExprNode; readonly right: ExprNode };

export type ExprValue = string | number | boolean | null | readonly ExprValue[];

export const node = {
  attribute: (name: string): ExprNode => Object.freeze({ type: 'attribute', name }),
  string: (value: string): ExprNode => Object.freeze({ type: 'string', value }),
  number: (text: string): ExprNode => Object.freeze({ type: 'number', text }),
  keyword: (name: string): ExprNode => Object.freeze({ type: 'keyword', name }),
  call: (name: string, args: readonly (ExprNode | null)[]): ExprNode =>
    Object.freeze({ type: 'call', name, args: Object.freeze([...args]) }),
  compare: (op: CompareOp, left: ExprNode, right: ExprNode): ExprNode =>
    Object.freeze({ type: 'compare', op, left, right }),
};

/** Bare words the language knows besides function names. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'vbBinaryCompare',
  'vbTextCompare',
  // Undocumented sentinels used as IIF branches (Workday guide): drop the attribute / skip the object.
  'IgnoreAttributeFlow',
  'IgnoreObjectFlow',
]);

export const COMPARE_OPS: readonly CompareOp[] = ['=', '<>', '>=', '<=', '>', '<'];

/** Entra's documented limit on an expression's text. */
export const MAX_EXPRESSION_LENGTH = 10_000;
/** Nesting bound (calls and comparisons). Real mappings nest < 10 deep; 64 keeps every recursive walk
 *  (parse, evaluate, print, Graph conversion) far from V8's stack limit, so deep input is a clean 400. */
export const MAX_DEPTH = 64;
/** Attribute names: Graph attribute and directory-extension names are well under this. */
export const MAX_ATTRIBUTE_NAME = 256;

export type ExpressionErrorCode =
  | 'Expression_Syntax'
  | 'Expression_TooLong'
  | 'Expression_TooDeep'
  | 'Expression_UnknownFunction'
  | 'Expression_Arity'
  | 'Expression_InvalidRegex'
  | 'Expression_Evaluation';

/** A parse or evaluation error. `position` is the 0-based offset in the expression text (parse
 *  errors), or -1 when the error has no place in a text (evaluation, Graph tree conversion). */
export class ExpressionError extends DomainError {
  readonly position: number;
  constructor(code: ExpressionErrorCode, message: string, position = -1) {
    super('badRequest', code, message);
    this.name = 'ExpressionError';
    this.position = position;
  }
}

export const syntaxError = (position: number, message: string, code: ExpressionErrorCode = 'Expression_Syntax') =>
  new ExpressionError(code, `${message} at position ${position}.`, position);

export const evalError = (message: string) => new ExpressionError('Expression_Evaluation', message);
