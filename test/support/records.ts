import type { Client, User } from '../../lib/stores/types.js'

/**
 * Store records as plain data, for unit tests of rules that take them (test/lib/): the shapes lib/stores/types.ts
 * defines, with every field set; a test overrides what it is about.
 */
export function clientRecord (over: Partial<Client> = {}): Client {
  return {
    id: 'web',
    secretHash: null,
    isPublic: false,
    grantTypes: ['authorization_code'],
    scope: null,
    redirectUris: ['https://app.test/cb'],
    generation: null,
    postLogoutRedirectUris: [],
    skipConsent: false,
    providers: null,
    pkce: 'required',
    idTokenAlg: null,
    userinfoAlg: null,
    backchannelLogoutUri: null,
    requireMfa: false,
    passwordGrantSkipsMfa: false,
    registration: null,
    clientName: null,
    clientUri: null,
    logoUri: null,
    registrationMetadata: {},
    registrationTokenHash: null,
    registeredBy: null,
    firstUsedAt: null,
    exchangeSources: [],
    exchangeTargets: [],
    createdAt: 0,
    updatedAt: 0,
    ...over
  }
}

export function userRecord (over: Partial<User> = {}): User {
  return {
    id: 'u-1',
    username: 'alice',
    fullName: null,
    email: null,
    emailVerified: false,
    disabled: false,
    scope: 'items:read',
    passwordHash: null,
    credentialVersion: 0,
    createdBy: null,
    claims: {},
    createdAt: 0,
    updatedAt: 0,
    ...over
  }
}
