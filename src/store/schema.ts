// Row types of every table, as the store reads and writes them (see migrations.ts).
import type { Generated } from 'kysely';

export interface TenantRow {
  id: string;
  display_name: string;
  domain: string;
  created_at: string;
  /** Small integer key of the tenant's rows in the directory tables (migration 009); never reused. */
  no: number | null;
  change_seq: Generated<number>;
  /** Users (live and soft-deleted) plus groups, kept by changesRepo.append (migration 006). */
  object_count: Generated<number>;
  data: string;
}

export interface AppRow {
  tenant_id: string;
  client_id: string;
  display_name: string;
  secret_hash: string | null;
  public_client: number;
  permissions: string;
  created_at: string;
}

export interface UserRow {
  /** The tenant's integer key (tenants.no, migration 009). */
  tenant_no: number;
  id: string;
  upn_lc: string;
  upn_rev: string;
  display_name_lc: string | null;
  given_name_lc: string | null;
  surname_lc: string | null;
  mail_lc: string | null;
  mail_rev: string | null;
  mail_nickname_lc: string | null;
  job_title_lc: string | null;
  department_lc: string | null;
  company_name_lc: string | null;
  employee_id_lc: string | null;
  user_type: string;
  creation_type: string | null;
  external_user_state: string | null;
  account_enabled: number;
  show_in_address_list: number | null;
  home_tenant_id: string | null;
  home_user_id: string | null;
  password_hash: string | null;
  created_at: string;
  deleted_at: string | null;
  data: string;
}

export interface ValueRow {
  /** The tenant's integer key (tenants.no, migration 009). */
  tenant_no: number;
  attr: string;
  ord: number;
  v1: string;
  v1_rev: string | null;
  v2: string | null;
  v3: string | null;
}
export interface UserValueRow extends ValueRow {
  user_id: string;
}
export interface GroupValueRow extends ValueRow {
  group_id: string;
}

export interface SearchTokenRow {
  /** The tenant's integer key (tenants.no, migration 009). */
  tenant_no: number;
  object_type: string;
  prop: string;
  token: string;
  object_id: string;
}

export interface GroupRow {
  /** The tenant's integer key (tenants.no, migration 009). */
  tenant_no: number;
  id: string;
  display_name_lc: string | null;
  description_lc: string | null;
  mail_lc: string | null;
  mail_rev: string | null;
  mail_nickname_lc: string | null;
  security_enabled: number;
  mail_enabled: number;
  created_at: string;
  deleted_at: string | null;
  data: string;
}

export interface GroupMemberRow {
  /** The tenant's integer key (tenants.no, migration 009). */
  tenant_no: number;
  group_id: string;
  member_id: string;
  member_type: string;
  added_at: string;
}

export interface ChangeLogRow {
  /** The tenant's integer key (tenants.no, migration 009). */
  tenant_no: number;
  seq: number;
  object_type: string;
  object_id: string;
  change: string;
  props: string | null;
  at: string;
}

export interface TenantDocumentRow {
  tenant_id: string;
  kind: string;
  key: string;
  data: string;
  updated_at: string;
}

export interface SigningKeyRow {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: string;
}

export interface ServerSettingRow {
  key: string;
  value: string;
}

export interface MultiTenantOrganizationRow {
  id: string;
  display_name: string;
  description: string | null;
  created_at: string;
  creator_tenant_id: string;
}

export interface MtoMemberRow {
  tenant_id: string;
  mto_id: string;
  display_name: string;
  role: string;
  state: string;
  added_by_tenant_id: string;
  added_at: string;
  joined_at: string | null;
  transition: string | null;
  local_object_id: string;
}

export interface WorkItemRow {
  tenant_id: string;
  queue: string;
  id: string;
  kind: string;
  ref: string | null;
  status: string;
  attempts: Generated<number>;
  not_before: string;
  lease_owner: string | null;
  rev: Generated<number>;
  payload: string;
  error: string | null;
  created_at: string;
}

export interface SyncJobRow {
  tenant_id: string;
  id: string;
  sp_id: string;
  template_id: string;
  schedule_state: string;
  schedule_interval: string;
  status: string;
  settings: string;
  schema_doc: string | null;
  phase: string;
  cursor: string | null;
  up_to: number | null;
  watermark: number;
  cycle: string | null;
  created_at: string;
}

export interface SyncObjectRow {
  tenant_id: string;
  job_id: string;
  object_id: string;
  state: string;
  attempts: number;
  next_attempt: string | null;
  since: string;
  data: string;
}

/** One provisioning log entry, compact (migration 012; the encoding is store/repos/provisioningLogCodec.ts). */
export interface ProvisioningLogRow {
  tenant_no: number;
  /** The entry's UUIDv7 as 16 bytes; its stamp is the entry's time. */
  id: Uint8Array;
  job_no: number;
  run_no: number;
  action: string;
  status: string;
  source_id: Uint8Array | null;
  /** Only when the entry's time is not its id's stamp (never, for entries the engine writes). */
  at: string | null;
  data: Uint8Array;
}

/** A job as the provisioning log names it, once per job (ids only: logs outlive the job). */
export interface ProvisioningLogJobRow {
  no: Generated<number>;
  tenant_no: number;
  job_id: string;
  sp_id: string;
}

/** What one run's entries share (cycle id, names), once per run; pruned with the entries. */
export interface ProvisioningLogRunRow {
  no: Generated<number>;
  tenant_no: number;
  job_no: number;
  run: string;
  last_at: string;
}

export interface ApplicationRow {
  tenant_id: string;
  id: string;
  app_id: string;
  display_name_lc: string;
  created_at: string;
  data: string;
}

export interface ServicePrincipalRow {
  tenant_id: string;
  id: string;
  app_id: string;
  application_id: string | null;
  display_name_lc: string;
  created_at: string;
  data: string;
}

export interface AppRoleAssignmentRow {
  tenant_id: string;
  id: string;
  resource_id: string;
  principal_id: string;
  principal_type: string;
  app_role_id: string;
  principal_display_name: string | null;
  created_at: string;
}

export interface AuthorizationGrantRow {
  tenant_id: string;
  hash: string;
  kind: string;
  family: string;
  expires_at: string;
  used_at: string | null;
  data: string;
}

export interface Database {
  tenants: TenantRow;
  apps: AppRow;
  users: UserRow;
  user_values: UserValueRow;
  group_values: GroupValueRow;
  search_tokens: SearchTokenRow;
  groups: GroupRow;
  group_members: GroupMemberRow;
  change_log: ChangeLogRow;
  tenant_documents: TenantDocumentRow;
  signing_keys: SigningKeyRow;
  server_settings: ServerSettingRow;
  multi_tenant_organizations: MultiTenantOrganizationRow;
  mto_members: MtoMemberRow;
  work_items: WorkItemRow;
  sync_jobs: SyncJobRow;
  sync_objects: SyncObjectRow;
  provisioning_log: ProvisioningLogRow;
  provisioning_log_jobs: ProvisioningLogJobRow;
  provisioning_log_runs: ProvisioningLogRunRow;
  applications: ApplicationRow;
  service_principals: ServicePrincipalRow;
  app_role_assignments: AppRoleAssignmentRow;
  authorization_grants: AuthorizationGrantRow;
}
