import type { Client, User } from '../../lib/stores/types.js'
import { DEFAULT_CLIENT } from '../../lib/oauth/client-auth.js'

/**
 * Store records as plain data, for unit tests of rules that take them (test/lib/): the shapes lib/stores/types.ts
 * defines, with every field set; a test overrides what it is about.
 */
export function clientRecord (over: Partial<Client> = {}): Client {
  // Every field from the one complete client lib/ defines (the tutorial's default), then a confidential web app's.
  return { ...DEFAULT_CLIENT, id: 'web', isPublic: false, grantTypes: ['authorization_code'], redirectUris: ['https://app.test/cb'], ...over }
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
