// Shape of a catalog entry: Graph's attributeMappingFunctionSchema plus what the parser checks and
// the evaluator runs.
import type { ExprNode } from './ast.js';
import type { Env, Val } from './values.js';

export type AttributeType = 'String' | 'Integer' | 'Reference' | 'Binary' | 'Boolean' | 'DateTime';

export interface AttributeMappingParameterSchema {
  allowMultipleOccurrences: boolean;
  name: string;
  required: boolean;
  type: AttributeType;
}

export interface AttributeMappingFunctionSchema {
  id: string;
  name: string;
  parameters: AttributeMappingParameterSchema[];
}

export interface ParamSpec {
  name: string;
  type?: AttributeType;
  required?: boolean;
  /** Repeats: the trailing run of repeating parameters repeats as a group (Switch: key, value). */
  multiple?: boolean;
  /** Other names accepted in Graph trees (the documentation's names where Graph's differ). */
  aliases?: string[];
}

export interface FunctionSpec {
  name: string;
  params: ParamSpec[];
  /** Positional arity (empty slots count). */
  min: number;
  max: number;
  /** Extra parse-time check on the argument slots (presence is syntactic). Returns a message. */
  check?: (args: readonly (ExprNode | null)[]) => string | undefined;
  /** Only evaluated arguments are passed for strict functions; lazy ones get the nodes. */
  lazy?: (args: readonly (ExprNode | null)[], env: Env) => Val;
  strict?: (vals: readonly Val[], env: Env) => Val;
  /** What we do where Entra's behaviour is undocumented or can't be honoured here. */
  note?: string;
}

export const p = (name: string, extra: Omit<ParamSpec, 'name'> = {}): ParamSpec => ({ name, required: true, ...extra });
export const opt = (name: string, extra: Omit<ParamSpec, 'name'> = {}): ParamSpec => ({ name, required: false, ...extra });
