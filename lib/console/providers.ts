import type { ProviderInput, ProviderPatchInput } from '../admin/providers.js'

/**
 * The console's provider forms read into the admin API's inputs (lib/admin/providers.ts judges them: one home for
 * each rule). Only the shape is decided here: checkboxes are present or not; on the create form an empty field is
 * "the default" (left out, as a body without it), on the edit form an empty endpoint or claim is "none" ("", as PATCH
 * takes it) and an empty client secret keeps the stored one (it is write-only: the page never shows it).
 */
export type ProviderFields = Record<string, unknown>

const text = (fields: ProviderFields, name: string): string => typeof fields[name] === 'string' ? fields[name].trim() : ''
/** A field exactly as typed (a secret: only the service says what it may hold), '' when absent. */
const asTyped = (fields: ProviderFields, name: string): string => typeof fields[name] === 'string' ? fields[name] : ''
/** An HTML checkbox: sent (as `on`) when ticked, absent when not. */
const ticked = (fields: ProviderFields, name: string): boolean => fields[name] !== undefined
/** Empty: left out (the service's default, or the stored value). */
const given = (fields: ProviderFields, name: string): string | undefined => text(fields, name) || undefined

/** The claim mapping fields (`claim_<what>`), each as the form gives it. */
const CLAIMS = [['subject', 'claim_subject'], ['email', 'claim_email'], ['emailVerified', 'claim_email_verified'], ['name', 'claim_name'], ['username', 'claim_username']] as const

function claims (read: (name: string) => string | undefined): NonNullable<ProviderInput['claims']> {
  return Object.fromEntries(CLAIMS.map(([key, name]) => [key, read(name)]))
}

/** The create form as createProvider's input. */
export function providerInput (fields: ProviderFields): ProviderInput {
  return {
    name: text(fields, 'name'),
    issuer: text(fields, 'issuer'),
    clientId: text(fields, 'client_id'),
    // A secret is taken as typed (only the service says what it may hold).
    clientSecret: asTyped(fields, 'client_secret'),
    scope: given(fields, 'scope'),
    displayName: given(fields, 'display_name'),
    linkByEmail: ticked(fields, 'link_by_email'),
    linkLinkedAccounts: ticked(fields, 'link_linked_accounts'),
    createUsers: ticked(fields, 'create_users'),
    authorizationEndpoint: given(fields, 'authorization_endpoint'),
    tokenEndpoint: given(fields, 'token_endpoint'),
    userinfoEndpoint: given(fields, 'userinfo_endpoint'),
    claims: claims((name) => given(fields, name)),
    // "Check the provider's discovery document now" (ticked by default on the add form).
    checkDiscovery: ticked(fields, 'check_discovery')
  }
}

/** The edit form as updateProvider's patch: every field as shown, but the secret only when one was typed. */
export function providerPatch (fields: ProviderFields): ProviderPatchInput {
  const secret = asTyped(fields, 'client_secret') || undefined
  return {
    issuer: text(fields, 'issuer'),
    clientId: text(fields, 'client_id'),
    clientSecret: secret,
    scope: text(fields, 'scope'),
    displayName: text(fields, 'display_name'),
    linkByEmail: ticked(fields, 'link_by_email'),
    linkLinkedAccounts: ticked(fields, 'link_linked_accounts'),
    createUsers: ticked(fields, 'create_users'),
    authorizationEndpoint: text(fields, 'authorization_endpoint'),
    tokenEndpoint: text(fields, 'token_endpoint'),
    userinfoEndpoint: text(fields, 'userinfo_endpoint'),
    claims: claims((name) => text(fields, name)),
    checkDiscovery: ticked(fields, 'check_discovery')
  }
}
