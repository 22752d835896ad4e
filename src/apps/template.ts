// The one gallery template this server knows, Entra's "Azure AD to Azure AD" provisioning app
// (Azure2Azure), and the application + service principal that instantiating it creates. Every declared
// v1.0 property is present (null or [] where there is no value), so clients deserialize the same shape
// Graph sends. Pure: ids, time and tenant come in as arguments.
import type { Application, AppRole } from '../store/repos/applications.js';
import type { ServicePrincipal } from '../store/repos/servicePrincipals.js';

export const AZURE2AZURE_TEMPLATE_ID = '518e5f48-1fc8-4c48-9387-9fdf28b0dfe7';
/** Graph's "default access" role: assignable to an SP whatever roles it declares. */
export const DEFAULT_ACCESS_ROLE_ID = '00000000-0000-0000-0000-000000000000';
const HOMEPAGE = 'https://account.activedirectory.windowsazure.com:444/applications/default.aspx?metadata=aad2aadsync|ISV9.1|primary|z';
const INTEGRATED_APP_TAG = 'WindowsAzureActiveDirectoryIntegratedApp';

export const azure2AzureTemplate = {
  id: AZURE2AZURE_TEMPLATE_ID,
  displayName: 'Azure AD to Azure AD',
  description: 'Synchronizes users from this tenant to another tenant (cross-tenant synchronization).',
  categories: ['provisioning'],
  deprecationDate: null,
  endpoints: [],
  homePageUrl: HOMEPAGE,
  isEntraIntegrated: true,
  lastModifiedDateTime: null,
  logoUrl: null,
  publisher: 'Microsoft Corporation',
  riskFactors: null,
  riskScore: null,
  supportedProvisioningTypes: ['sync'],
  supportedSingleSignOnModes: [],
} as const;

const informationalUrl = () => ({ logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null });
const verifiedPublisher = () => ({ addedDateTime: null, displayName: null, verifiedPublisherId: null });

/** The template's one role, `msiam_access`: users (and, through Entra's rule, groups) are assigned to it. */
export const msiamAccess = (id: string): AppRole => ({
  allowedMemberTypes: ['User'], description: 'msiam_access', displayName: 'msiam_access', id, isEnabled: true, origin: 'Application', value: null,
});

export interface InstanceIds {
  applicationId: string;
  servicePrincipalId: string;
  appId: string;
  roleId: string;
}

export interface InstanceInput {
  displayName: string;
  serviceManagementReference: string | null;
  tenantId: string;
  /** The tenant's initial domain: the application's publisherDomain. */
  publisherDomain: string;
  /** The calling app's client id (createdByAppId), null for a signed-in user's portal-less call. */
  createdByAppId: string | null;
  now: string;
}

export function newApplication(ids: InstanceIds, input: InstanceInput): Application {
  return {
    id: ids.applicationId, deletedDateTime: null, addIns: [],
    api: { acceptMappedClaims: null, knownClientApplications: [], oauth2PermissionScopes: [], preAuthorizedApplications: [], requestedAccessTokenVersion: null },
    appId: ids.appId, applicationTemplateId: AZURE2AZURE_TEMPLATE_ID, appRoles: [msiamAccess(ids.roleId)],
    authenticationBehaviors: null, certification: null, createdByAppId: input.createdByAppId, createdDateTime: input.now,
    defaultRedirectUri: null, description: null, disabledByMicrosoftStatus: null, displayName: input.displayName,
    groupMembershipClaims: null, identifierUris: [], info: informationalUrl(), isDeviceOnlyAuthSupported: null, isDisabled: null,
    isFallbackPublicClient: null, keyCredentials: [], managerApplications: [], nativeAuthenticationApisEnabled: null, notes: null,
    oauth2RequirePostResponse: false, optionalClaims: null,
    parentalControlSettings: { countriesBlockedForMinors: [], legalAgeGroupRule: 'Allow' },
    passwordCredentials: [], publicClient: { redirectUris: [] }, publisherDomain: input.publisherDomain,
    requestSignatureVerification: null, requiredResourceAccess: [], samlMetadataUrl: null,
    serviceManagementReference: input.serviceManagementReference, servicePrincipalLockConfiguration: null,
    signInAudience: 'AzureADMyOrg', spa: { redirectUris: [] }, tags: [], tokenEncryptionKeyId: null, uniqueName: null,
    verifiedPublisher: verifiedPublisher(),
    web: {
      homePageUrl: HOMEPAGE, implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false }, logoutUrl: null,
      redirectUris: [], redirectUriSettings: [],
    },
  };
}

export function newServicePrincipal(ids: InstanceIds, input: InstanceInput): ServicePrincipal {
  return {
    id: ids.servicePrincipalId, deletedDateTime: null, accountEnabled: true, addIns: [], alternativeNames: [], appDescription: null,
    appDisplayName: input.displayName, appId: ids.appId, applicationTemplateId: AZURE2AZURE_TEMPLATE_ID,
    appOwnerOrganizationId: input.tenantId, appRoleAssignmentRequired: true, appRoles: [msiamAccess(ids.roleId)],
    createdByAppId: input.createdByAppId, customSecurityAttributes: null, description: null, disabledByMicrosoftStatus: null,
    displayName: input.displayName, homepage: HOMEPAGE, info: informationalUrl(), isDisabled: null, keyCredentials: [],
    loginUrl: null, logoutUrl: null, notes: null, notificationEmailAddresses: [], oauth2PermissionScopes: [], passwordCredentials: [],
    preferredSingleSignOnMode: null, preferredTokenSigningKeyThumbprint: null, replyUrls: [], resourceSpecificApplicationPermissions: [],
    samlSingleSignOnSettings: null, servicePrincipalNames: [ids.appId], servicePrincipalType: 'Application',
    signInAudience: 'AzureADMyOrg', tags: [INTEGRATED_APP_TAG], tokenEncryptionKeyId: null, verifiedPublisher: verifiedPublisher(),
  };
}

/** Graph's default properties: every declared one but those Graph returns only on $select. */
export const defaultApplicationSelect = Object.keys(newApplication(
  { applicationId: '', servicePrincipalId: '', appId: '', roleId: '' },
  { displayName: '', serviceManagementReference: null, tenantId: '', publisherDomain: '', createdByAppId: null, now: '' },
)).filter((k) => k !== 'authenticationBehaviors');
export const allApplicationProperties = new Set<string>([...defaultApplicationSelect, 'authenticationBehaviors']);

export const defaultServicePrincipalSelect = Object.keys(newServicePrincipal(
  { applicationId: '', servicePrincipalId: '', appId: '', roleId: '' },
  { displayName: '', serviceManagementReference: null, tenantId: '', publisherDomain: '', createdByAppId: null, now: '' },
)).filter((k) => k !== 'customSecurityAttributes');
export const allServicePrincipalProperties = new Set<string>([...defaultServicePrincipalSelect, 'customSecurityAttributes']);
