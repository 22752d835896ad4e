// What each directory resource lets a query touch: which Graph property lives in which column, and
// which OData operators Graph allows on it (default vs advanced query). One catalog drives the row
// mapper in the store, the $filter/$orderby/$search compiler and the error messages, so a property is
// queryable in exactly one place.

export type ScalarType = 'string' | 'boolean' | 'datetime' | 'guid' | 'int';

/** Operators as Graph documents them per property. `eqNull` is `eq null` / `ne null`. */
export type FilterOp = 'eq' | 'ne' | 'not' | 'in' | 'startsWith' | 'endsWith' | 'range' | 'eqNull';

export interface ScalarProperty {
  kind: 'scalar';
  name: string;
  type: ScalarType;
  /** Column used for filtering/ordering. Strings are stored lowercased in it (Graph compares case-insensitively). */
  column: string;
  /** Column with the reversed lowercased value, present where endsWith is supported (lets a B-tree answer it). */
  reversedColumn?: string;
  /** Operators allowed without advanced query headers. */
  filter: readonly FilterOp[];
  /** Operators allowed only with `ConsistencyLevel: eventual` (+ `$count=true` for $filter). */
  advanced?: readonly FilterOp[];
  orderBy?: boolean;
  /** $search behaviour: `tokens` = word-prefix over the search token table, `prefix` = prefix on the column. */
  search?: 'tokens' | 'prefix';
}

/** A multi-valued property kept in the resource's values table: one row per item. */
export interface CollectionProperty {
  kind: 'collection';
  name: string;
  /** Value of the `attr` column in the values table. */
  attr: string;
  /**
   * For string collections: `{ '': 'v1' }` (the item itself). For object collections: the item's fields
   * mapped to the values-table columns holding their lowercased value (v1, v2, v3).
   */
  fields: Readonly<Record<string, 'v1' | 'v2' | 'v3'>>;
  /** Operators allowed on an item (or field) inside `any()`. */
  filter: readonly FilterOp[];
  advanced?: readonly FilterOp[];
  /** The values-table column holding the reversed v1, for endsWith. */
  reversed?: boolean;
}

export type CatalogProperty = ScalarProperty | CollectionProperty;

export interface ResourceCatalog {
  /** Graph resource name used in error messages, e.g. `microsoft.graph.user`. */
  resource: string;
  /** Object type stored in the change log and search-token table. */
  objectType: 'user' | 'group';
  table: string;
  valuesTable: string;
  properties: Readonly<Record<string, CatalogProperty>>;
}

// Graph serves `ne` and `not` on directory objects only as advanced queries (ConsistencyLevel: eventual
// with $count=true); plain eq/in/startsWith work without.
const std = ['eq', 'in', 'eqNull'] as const;
const str = ['eq', 'in', 'startsWith', 'eqNull'] as const;
const negation = ['ne', 'not'] as const;

export const userCatalog: ResourceCatalog = {
  resource: 'microsoft.graph.user',
  objectType: 'user',
  table: 'users',
  valuesTable: 'user_values',
  properties: {
    id: { kind: 'scalar', name: 'id', type: 'guid', column: 'id', filter: ['eq', 'in'], advanced: ['ne', 'not'] },
    displayName: {
      kind: 'scalar', name: 'displayName', type: 'string', column: 'display_name_lc',
      filter: [...str], advanced: [...negation, 'range'], orderBy: true, search: 'tokens',
    },
    userPrincipalName: {
      kind: 'scalar', name: 'userPrincipalName', type: 'string', column: 'upn_lc', reversedColumn: 'upn_rev',
      filter: [...str], advanced: [...negation, 'endsWith', 'range'], orderBy: true, search: 'prefix',
    },
    mail: {
      kind: 'scalar', name: 'mail', type: 'string', column: 'mail_lc', reversedColumn: 'mail_rev',
      filter: [...str], advanced: [...negation, 'endsWith', 'range'], search: 'prefix',
    },
    givenName: {
      kind: 'scalar', name: 'givenName', type: 'string', column: 'given_name_lc',
      filter: [...str], advanced: [...negation, 'range'], search: 'prefix',
    },
    surname: {
      kind: 'scalar', name: 'surname', type: 'string', column: 'surname_lc',
      filter: [...str], advanced: [...negation, 'range'], search: 'prefix',
    },
    mailNickname: {
      kind: 'scalar', name: 'mailNickname', type: 'string', column: 'mail_nickname_lc',
      filter: [...str], advanced: [...negation, 'range'], search: 'prefix',
    },
    jobTitle: { kind: 'scalar', name: 'jobTitle', type: 'string', column: 'job_title_lc', filter: [...str], advanced: [...negation], search: 'prefix' },
    department: { kind: 'scalar', name: 'department', type: 'string', column: 'department_lc', filter: [...str], advanced: [...negation], search: 'prefix' },
    companyName: { kind: 'scalar', name: 'companyName', type: 'string', column: 'company_name_lc', filter: [...str], advanced: [...negation], search: 'prefix' },
    employeeId: { kind: 'scalar', name: 'employeeId', type: 'string', column: 'employee_id_lc', filter: [...str], advanced: [...negation], search: 'prefix' },
    userType: { kind: 'scalar', name: 'userType', type: 'string', column: 'user_type', filter: [...std], advanced: [...negation] },
    creationType: { kind: 'scalar', name: 'creationType', type: 'string', column: 'creation_type', filter: [...std], advanced: [...negation] },
    externalUserState: { kind: 'scalar', name: 'externalUserState', type: 'string', column: 'external_user_state', filter: [...std], advanced: [...negation] },
    accountEnabled: { kind: 'scalar', name: 'accountEnabled', type: 'boolean', column: 'account_enabled', filter: [...std], advanced: [...negation] },
    showInAddressList: { kind: 'scalar', name: 'showInAddressList', type: 'boolean', column: 'show_in_address_list', filter: [...std], advanced: [...negation] },
    createdDateTime: {
      kind: 'scalar', name: 'createdDateTime', type: 'datetime', column: 'created_at',
      filter: ['eq', 'in', 'range', 'eqNull'], advanced: [...negation], orderBy: true,
    },
    otherMails: {
      kind: 'collection', name: 'otherMails', attr: 'otherMails', fields: { '': 'v1' },
      filter: ['eq', 'startsWith'], advanced: ['endsWith'], reversed: true,
    },
    proxyAddresses: {
      kind: 'collection', name: 'proxyAddresses', attr: 'proxyAddresses', fields: { '': 'v1' },
      filter: ['eq', 'startsWith'], advanced: ['endsWith'], reversed: true,
    },
    businessPhones: { kind: 'collection', name: 'businessPhones', attr: 'businessPhones', fields: { '': 'v1' }, filter: ['eq'] },
    identities: {
      kind: 'collection', name: 'identities', attr: 'identities',
      fields: { issuerAssignedId: 'v1', issuer: 'v2', signInType: 'v3' },
      filter: ['eq'],
    },
  },
};

export const groupCatalog: ResourceCatalog = {
  resource: 'microsoft.graph.group',
  objectType: 'group',
  table: 'groups',
  valuesTable: 'group_values',
  properties: {
    id: { kind: 'scalar', name: 'id', type: 'guid', column: 'id', filter: ['eq', 'in'], advanced: ['ne', 'not'] },
    displayName: {
      kind: 'scalar', name: 'displayName', type: 'string', column: 'display_name_lc',
      filter: [...str], advanced: [...negation, 'range'], orderBy: true, search: 'tokens',
    },
    description: { kind: 'scalar', name: 'description', type: 'string', column: 'description_lc', filter: [...str], advanced: [...negation], search: 'tokens' },
    mail: {
      kind: 'scalar', name: 'mail', type: 'string', column: 'mail_lc', reversedColumn: 'mail_rev',
      filter: [...str], advanced: [...negation, 'endsWith'], search: 'prefix',
    },
    mailNickname: { kind: 'scalar', name: 'mailNickname', type: 'string', column: 'mail_nickname_lc', filter: [...str], advanced: [...negation], search: 'prefix' },
    securityEnabled: { kind: 'scalar', name: 'securityEnabled', type: 'boolean', column: 'security_enabled', filter: [...std], advanced: [...negation] },
    mailEnabled: { kind: 'scalar', name: 'mailEnabled', type: 'boolean', column: 'mail_enabled', filter: [...std], advanced: [...negation] },
    createdDateTime: {
      kind: 'scalar', name: 'createdDateTime', type: 'datetime', column: 'created_at',
      filter: ['eq', 'in', 'range', 'eqNull'], advanced: [...negation], orderBy: true,
    },
    proxyAddresses: {
      kind: 'collection', name: 'proxyAddresses', attr: 'proxyAddresses', fields: { '': 'v1' },
      filter: ['eq', 'startsWith'], advanced: ['endsWith'], reversed: true,
    },
  },
};
