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

/**
 * What both forms send besides the name, issuer, client ID and secret, each text field read by `read` (the create
 * form: empty is the default; the edit form: empty is "none").
 */
function settings (fields: ProviderFields, read: (name: string) => string | undefined) {
  return {
    scope: read('scope'),
    displayName: read('display_name'),
    linkByEmail: ticked(fields, 'link_by_email'),
    linkLinkedAccounts: ticked(fields, 'link_linked_accounts'),
    createUsers: ticked(fields, 'create_users'),
    authorizationEndpoint: read('authorization_endpoint'),
    tokenEndpoint: read('token_endpoint'),
    userinfoEndpoint: read('userinfo_endpoint'),
    claims: claims(read),
    // "Check the provider's discovery document now" (ticked by default on the add form).
    checkDiscovery: ticked(fields, 'check_discovery')
  }
}

/** The create form as createProvider's input. */
export function providerInput (fields: ProviderFields): ProviderInput {
  return {
    name: text(fields, 'name'),
    issuer: text(fields, 'issuer'),
    clientId: text(fields, 'client_id'),
    clientSecret: asTyped(fields, 'client_secret'),
    ...settings(fields, (name) => given(fields, name))
  }
}

/** The edit form as updateProvider's patch: every field as shown, but the secret only when one was typed. */
export function providerPatch (fields: ProviderFields): ProviderPatchInput {
  return {
    issuer: text(fields, 'issuer'),
    clientId: text(fields, 'client_id'),
    clientSecret: asTyped(fields, 'client_secret') || undefined,
    ...settings(fields, (name) => text(fields, name))
  }
}
