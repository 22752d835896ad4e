// Graph's scoping filter JSON (objectMapping.scope): filter{groups, inputFilterGroups,
// categoryFilterGroups} of filterGroup{name, clauses} of filterClause{operatorName, sourceOperandName,
// targetOperand{values}}. Bounded, because it arrives through Graph PUT schema.
import { z } from 'zod';

/** Real filters have a handful of groups and clauses; these bounds keep a hostile PUT from making
 *  every object's scope evaluation expensive (at most 20 × 50 clauses per object). */
export const MAX_GROUPS = 20;
export const MAX_CLAUSES = 50;
export const MAX_VALUES = 50;
export const MAX_NAME_LENGTH = 256;
/** A clause value may be a regex pattern; regex.ts bounds patterns further (1,000). */
export const MAX_VALUE_LENGTH = 1_024;

export interface FilterClause {
  operatorName: string;
  sourceOperandName: string;
  targetOperand: { values: string[] };
}
export interface FilterGroup {
  name: string;
  clauses: FilterClause[];
}
export interface ScopingFilter {
  groups: FilterGroup[];
  inputFilterGroups: FilterGroup[];
  categoryFilterGroups: FilterGroup[];
}

const clauseSchema = z.looseObject({
  operatorName: z.string().min(1).max(64),
  sourceOperandName: z.string().min(1).max(MAX_NAME_LENGTH),
  targetOperand: z
    .looseObject({ values: z.array(z.string().max(MAX_VALUE_LENGTH)).max(MAX_VALUES).nullish() })
    .nullish()
    .transform((t) => ({ values: t?.values ?? [] })),
});

const groupSchema = z.looseObject({
  name: z.string().max(MAX_NAME_LENGTH).nullish().transform((n) => n ?? ''),
  clauses: z.array(clauseSchema).max(MAX_CLAUSES),
});

const groups = z
  .array(groupSchema)
  .max(MAX_GROUPS)
  .nullish()
  .transform((g) => g ?? []);

export const scopingFilterSchema: z.ZodType<ScopingFilter> = z
  .looseObject({ groups, inputFilterGroups: groups, categoryFilterGroups: groups })
  .transform((f) => ({
    groups: f.groups.map(strip),
    inputFilterGroups: f.inputFilterGroups.map(strip),
    categoryFilterGroups: f.categoryFilterGroups.map(strip),
  })) as unknown as z.ZodType<ScopingFilter>;

function strip(g: { name: string; clauses: { operatorName: string; sourceOperandName: string; targetOperand: { values: string[] } }[] }): FilterGroup {
  return {
    name: g.name,
    clauses: g.clauses.map((c) => ({
      operatorName: c.operatorName,
      sourceOperandName: c.sourceOperandName,
      targetOperand: { values: c.targetOperand.values },
    })),
  };
}
