import type { ClientInput, ClientPatchInput } from '../admin/clients.js'

/**
 * The console's client forms read into the admin API's inputs (lib/admin/clients.ts judges them: one home for each
 * rule). Only the shape is decided here: lists are one entry a line (or space-separated), checkboxes are present or
 * not, an empty field is "none". Nothing is checked beyond that, so a bad redirect URI gets the service's own message.
 */
export type ClientFields = Record<string, unknown>

const text = (fields: ClientFields, name: string): string => typeof fields[name] === 'string' ? fields[name].trim() : ''
const list = (fields: ClientFields, name: string): string[] => text(fields, name).split(/\s+/).filter((entry) => entry !== '')
/** An HTML checkbox: sent (as `on`) when ticked, absent when not. */
const ticked = (fields: ClientFields, name: string): boolean => fields[name] !== undefined
const orNull = (value: string): string | null => value === '' ? null : value

/** The grant types the forms offer as checkboxes (the admin API takes any it knows; the CLI and API offer the rest). */
export const FORM_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const

/** The ticked grant checkboxes (`grant_<type>`), in the form's order. */
const grants = (fields: ClientFields): string[] => FORM_GRANT_TYPES.filter((grant) => ticked(fields, `grant_${grant}`))

/** What both forms share: redirect URIs, grants, scope, the consent, MFA, DPoP and PAR flags, the jwks_uri. */
function shared (fields: ClientFields) {
  return {
    grantTypes: grants(fields),
    scope: orNull(text(fields, 'scope')),
    redirectUris: list(fields, 'redirect_uris'),
    skipConsent: ticked(fields, 'skip_consent'),
    requireMfa: ticked(fields, 'require_mfa'),
    dpopBoundAccessTokens: ticked(fields, 'dpop'),
    requirePar: ticked(fields, 'require_par'),
    jwksUri: orNull(text(fields, 'jwks_uri'))
  }
}

/** The create form: its id, and the input createClient takes (`public` ticked: a public client, no secret). */
export function createInput (fields: ClientFields): { id: string, input: ClientInput } {
  return { id: text(fields, 'client_id'), input: { isPublic: ticked(fields, 'public'), ...shared(fields) } }
}

/**
 * The edit form as a patch for updateClient. The jwks_uri is sent only when it changed, so a client with a JWK Set
 * (registered through the API) keeps it when the field was left empty.
 */
export function updatePatch (fields: ClientFields, current: { jwksUri: string | null }): ClientPatchInput {
  const { jwksUri, ...rest } = shared(fields)
  return { ...rest, ...(jwksUri === current.jwksUri ? {} : { jwksUri }) }
}
