// The synchronization schema of a cross-tenant sync job: Entra's Azure2Azure defaults, validation of a
// schema an admin PUTs, and its compiled form (parsed expressions, flow types, scope) that the engine runs.
// Pure: no I/O.
import { DomainError, errors } from '../domain/errors.js';
import { writableUserProperties } from '../domain/user.js';
import {
  type AttributeReader, type ExprNode, type ExprValue, attributesOf, mappingSourceToNode, nodeToMappingSource, parseExpression,
} from './expression/index.js';
import { type ScopingFilter, scopingFilterSchema, validateScopingFilter } from './scoping/index.js';
import { z } from 'zod';

export const SCHEMA_VERSION = 'v1.2';
export const USER_RULE = 'USER_INBOUND_USER';
export const USER_MAPPING = 'Provision Azure Active Directory Users';
export const GROUP_MAPPING = 'Provision Azure Active Directory Groups';
const SOURCE_DIRECTORY = 'Azure Active Directory';
const TARGET_DIRECTORY = 'Azure Active Directory (target tenant)';

export const flowTypesList = ['Always', 'ObjectAddOnly', 'MultiValueAddOnly', 'ValueAddOnly', 'AttributeAddOnly'] as const;
export type FlowType = (typeof flowTypesList)[number];

export interface CompiledMapping {
  target: string;
  node: ExprNode;
  flowType: FlowType;
  matchingPriority: number;
  defaultValue: string | null;
}

export interface CompiledSchema {
  /** Target Object Actions: Create, Update, Delete. */
  actions: { add: boolean; update: boolean; delete: boolean };
  enabled: boolean;
  scope: ScopingFilter | null;
  mappings: CompiledMapping[];
}

// ---- source attributes ---------------------------------------------------------------------------

/** Provisioning names of the source user that are not its Graph property names. */
const sourceAliases: Record<string, (u: Record<string, unknown>, deleted: boolean) => ExprValue | undefined> = {
  netid: (u) => u.id as string,
  objectid: (u) => u.id as string,
  issoftdeleted: (_u, deleted) => deleted,
  physicaldeliveryofficename: (u) => u.officeLocation as string | null,
  telephonenumber: (u) => (u.businessPhones as string[] | undefined)?.[0] ?? null,
  facsimiletelephonenumber: (u) => u.faxNumber as string | null,
  mobile: (u) => u.mobilePhone as string | null,
};

/** Reads a source user's attributes by provisioning name, case-insensitively, as expressions see them. */
export function sourceReader(user: Record<string, unknown>, deleted: boolean): AttributeReader {
  let lower: Map<string, unknown> | undefined;
  return (name: string) => {
    const key = name.toLowerCase();
    const alias = sourceAliases[key];
    if (alias) return alias(user, deleted);
    if (name in user) return user[name] as ExprValue;
    lower ??= new Map(Object.entries(user).map(([k, v]) => [k.toLowerCase(), v]));
    return lower.get(key) as ExprValue | undefined;
  };
}

// ---- target attributes ---------------------------------------------------------------------------

/** Target attribute names that are not Graph property names, to the property they write. */
export const targetAliases: Record<string, string> = {
  physicaldeliveryofficename: 'officeLocation',
  telephonenumber: 'businessPhones',
  facsimiletelephonenumber: 'faxNumber',
  mobile: 'mobilePhone',
};
/** Targets the engine handles itself rather than as a property: the anchor, soft deletion, the manager reference. */
export const specialTargets = new Set(['alternativesecurityids', 'issoftdeleted', 'manager']);
// Written by the target directory or the engine, never by a mapping (Entra: otherMails is computed in the target).
const forbiddenTargets = new Set(['otherMails', 'identities', 'passwordProfile', 'externalUserState', 'proxyAddresses', 'id']);
const writableByLower = new Map(Object.keys(writableUserProperties).filter((k) => !forbiddenTargets.has(k)).map((k) => [k.toLowerCase(), k]));

/** The Graph property a mapping's target writes, or undefined for a name nothing can write. */
export function targetProperty(name: string): string | undefined {
  const key = name.toLowerCase();
  if (specialTargets.has(key)) return key;
  return targetAliases[key] ?? writableByLower.get(key);
}

// ---- defaults -------------------------------------------------------------------------------------

const direct = (target: string, source = target) => ({ target, expression: `[${source}]`, flowType: 'Always' as FlowType });
/** Entra's Azure2Azure user mappings (entra-mto-cts.md §3.5); all Always but userType (only on create). */
const defaultMappingSpecs: { target: string; expression: string; flowType: FlowType; matchingPriority?: number }[] = [
  { target: 'alternativeSecurityIds', expression: 'AltSecIdFromNetId([netId])', flowType: 'Always', matchingPriority: 1 },
  direct('IsSoftDeleted'), direct('accountEnabled'), direct('streetAddress'), direct('city'), direct('state'), direct('postalCode'),
  direct('country'), direct('department'), direct('employeeId'), direct('displayName'), direct('givenName'), direct('jobTitle'),
  direct('mailNickname'), direct('physicalDeliveryOfficeName'), direct('preferredLanguage'), direct('surname'),
  direct('telephoneNumber'), direct('userPrincipalName'), direct('mail'),
  { target: 'showInAddressList', expression: '"true"', flowType: 'Always' },
  { target: 'userType', expression: '"Member"', flowType: 'ObjectAddOnly' },
];

function attributeMappingJson(m: { target: string; expression: string; flowType: FlowType; matchingPriority?: number }) {
  return {
    defaultValue: null, exportMissingReferences: false, flowBehavior: 'FlowWhenChanged' as const, flowType: m.flowType,
    matchingPriority: m.matchingPriority ?? 0, source: nodeToMappingSource(parseExpression(m.expression)), targetAttributeName: m.target,
  };
}

const metadata = (pairs: [string, string][]) => pairs.map(([key, value]) => ({ key, value }));

/** A fresh copy of the default schema of a job (Graph's synchronizationSchema, without its id). */
export function defaultSchema(): SchemaDoc {
  return {
    version: SCHEMA_VERSION,
    synchronizationRules: [{
      containerFilter: { includedContainers: [] }, editable: true, groupFilter: { includedGroups: [] }, id: USER_RULE,
      metadata: metadata([['defaultSourceObjectMappings', 'User'], ['supportsProvisionOnDemand', 'true']]),
      name: USER_RULE, priority: 1, sourceDirectoryName: SOURCE_DIRECTORY, targetDirectoryName: TARGET_DIRECTORY,
      objectMappings: [
        {
          attributeMappings: defaultMappingSpecs.map(attributeMappingJson), enabled: true, flowTypes: 'Add, Update, Delete',
          metadata: metadata([['Disposition', 'Normal'], ['EscrowBehavior', 'Default']]), name: USER_MAPPING, scope: null,
          sourceObjectName: 'User', targetObjectName: 'User',
        },
        {
          // Group sync is a preview in Entra and off by default; openmto does not sync groups yet.
          attributeMappings: [direct('displayName'), direct('description'), direct('mailNickname')].map(attributeMappingJson),
          enabled: false, flowTypes: 'Add, Update, Delete', metadata: metadata([['Disposition', 'Normal']]), name: GROUP_MAPPING,
          scope: null, sourceObjectName: 'Group', targetObjectName: 'Group',
        },
      ],
    }],
  };
}

// ---- validation -----------------------------------------------------------------------------------

const BOUND = { rules: 8, objectMappings: 16, attributeMappings: 200, name: 256 };
const sourceSchema: z.ZodType = z.lazy(() => z.object({
  expression: z.string().max(10_000).nullable().optional(),
  name: z.string().max(BOUND.name).nullable().optional(),
  type: z.string().max(32).nullable().optional(),
  parameters: z.array(z.object({ key: z.string().max(BOUND.name).nullable().optional(), value: sourceSchema })).max(64).nullable().optional(),
}).loose());
const attributeMappingSchema = z.object({
  defaultValue: z.string().max(4096).nullable().optional(),
  exportMissingReferences: z.boolean().nullable().optional(),
  flowBehavior: z.enum(['FlowWhenChanged', 'FlowAlways']).nullable().optional(),
  flowType: z.enum(flowTypesList).nullable().optional(),
  matchingPriority: z.number().int().min(0).max(1000).nullable().optional(),
  source: sourceSchema.nullable().optional(),
  targetAttributeName: z.string().min(1).max(BOUND.name),
}).loose();
const objectMappingSchema = z.object({
  attributeMappings: z.array(attributeMappingSchema).max(BOUND.attributeMappings),
  enabled: z.boolean().nullable().optional(),
  flowTypes: z.string().max(64).nullable().optional(),
  metadata: z.array(z.object({ key: z.string().max(64), value: z.string().max(1024).nullable() })).max(32).nullable().optional(),
  name: z.string().max(BOUND.name).nullable().optional(),
  scope: z.unknown().optional(),
  sourceObjectName: z.string().max(64),
  targetObjectName: z.string().max(64),
}).loose();
const ruleSchema = z.object({
  id: z.string().max(BOUND.name).nullable().optional(),
  name: z.string().max(BOUND.name).nullable().optional(),
  objectMappings: z.array(objectMappingSchema).max(BOUND.objectMappings),
}).loose();
export const schemaBodySchema = z.object({
  synchronizationRules: z.array(ruleSchema).min(1).max(BOUND.rules),
  version: z.string().max(64).nullable().optional(),
  directories: z.array(z.unknown()).max(8).nullable().optional(),
}).loose();
export type SchemaDoc = z.infer<typeof schemaBodySchema>;

const schemaInvalid = (message: string) => new DomainError('badRequest', 'schemaInvalid', message);

export function parseFlowTypes(text: string | null | undefined): CompiledSchema['actions'] {
  const parts = (text ?? 'Add, Update, Delete').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const p of parts) if (!['add', 'update', 'delete', 'none'].includes(p)) throw schemaInvalid(`'${p}' is not an object flow type; use Add, Update, Delete or None.`);
  return { add: parts.includes('add'), update: parts.includes('update'), delete: parts.includes('delete') };
}

/** Validates a schema body and compiles its user mapping; throws a 400 naming what is wrong. */
export function compileSchema(body: unknown): { doc: SchemaDoc; compiled: CompiledSchema } {
  const r = schemaBodySchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw schemaInvalid(`The synchronization schema is not valid at '${issue?.path.join('.') ?? ''}': ${issue?.message ?? 'invalid'}.`);
  }
  const doc = r.data;
  const userMappings = doc.synchronizationRules.flatMap((rule) => rule.objectMappings)
    .filter((m) => m.sourceObjectName.toLowerCase() === 'user' && m.targetObjectName.toLowerCase() === 'user');
  if (userMappings.length !== 1) throw schemaInvalid('The schema must hold exactly one object mapping from User to User.');
  const om = userMappings[0]!;
  const mappings: CompiledMapping[] = [];
  const seen = new Set<string>();
  for (const am of om.attributeMappings) {
    const prop = targetProperty(am.targetAttributeName);
    if (!prop) throw schemaInvalid(`'${am.targetAttributeName}' is not a target attribute that cross-tenant synchronization can write.`);
    if (seen.has(prop)) throw schemaInvalid(`Two attribute mappings write '${am.targetAttributeName}'.`);
    seen.add(prop);
    if (!am.source) throw schemaInvalid(`The attribute mapping of '${am.targetAttributeName}' has no source.`);
    const node = mappingSourceToNode(am.source as never);
    for (const a of attributesOf(node)) {
      if (['usertype', 'samaccountname'].includes(a.toLowerCase())) throw schemaInvalid(`'${a}' is not available as a source attribute of cross-tenant synchronization.`);
    }
    mappings.push({
      target: prop, node, flowType: am.flowType ?? 'Always', matchingPriority: am.matchingPriority ?? 0, defaultValue: am.defaultValue ?? null,
    });
  }
  // Cross-tenant sync matches on one fixed anchor; Entra refuses any other matching attribute.
  const matching = mappings.filter((m) => m.matchingPriority > 0);
  const anchor = mappings.find((m) => m.target === 'alternativesecurityids');
  if (!anchor || matching.length !== 1 || matching[0] !== anchor || attributesOf(anchor.node).map((a: string) => a.toLowerCase()).join() !== 'netid') {
    throw schemaInvalid('The matching attribute of cross-tenant synchronization is fixed: alternativeSecurityIds from AltSecIdFromNetId([netId]), '
      + 'matching precedence 1, and no other attribute may be a matching attribute.');
  }
  let scope: ScopingFilter | null = null;
  if (om.scope !== undefined && om.scope !== null) {
    const s = scopingFilterSchema.safeParse(om.scope);
    if (!s.success) throw schemaInvalid(`The scoping filter is not valid: ${s.error.issues[0]?.message ?? 'invalid'}.`);
    validateScopingFilter(s.data);
    scope = s.data;
  }
  return { doc, compiled: { actions: parseFlowTypes(om.flowTypes), enabled: om.enabled ?? true, scope, mappings } };
}

let defaultCompiled: CompiledSchema | undefined;
/** The job's schema compiled: its own, or the default (compiled once per process). */
export function compiledSchemaOf(doc: unknown | null): CompiledSchema {
  if (doc === null || doc === undefined) {
    defaultCompiled ??= compileSchema(defaultSchema()).compiled;
    return defaultCompiled;
  }
  return compileSchema(doc).compiled;
}

export const noSuchSchema = () => errors.notFound('schema');
