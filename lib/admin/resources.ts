import { conflict, invalidInput, notFound } from '../errors.js'
import { resourceScopeProblem, resourceUriProblem } from '../oauth/resources.js'
import { formatScope, parseScope } from '../oauth/scopes.js'
import type { Resource, Storage } from '../stores/types.js'

/**
 * Administration of RFC 8707 resources (the APIs and MCP servers tokens may be issued for), shared by the admin API
 * (routes/admin/resources.ts) and the CLI (cli/resources.ts). The protocol rules are lib/oauth/resources.ts's.
 */

/** Longest display name: the consent page shows it. */
export const RESOURCE_NAME_MAX_LENGTH = 200

export interface ResourceInput {
  uri: string
  name?: string | null
  scope?: string
}

/** A resource as the admin API and the CLI show it. */
export interface ResourceView {
  uri: string
  name: string | null
  scope: string
  created_at: number
}

export const toResourceView = (r: Resource): ResourceView => ({ uri: r.uri, name: r.name, scope: r.scope, created_at: r.createdAt })

/**
 * Registers a resource. Refused: a URI RFC 8707 §2 does not allow (lib/oauth/resources.ts), Gatehouse's own
 * audience (its tokens already have that `aud`), a malformed scope list or one with OpenID Connect scopes, a name
 * with control characters or too long, a URI already registered (conflict).
 */
export async function addResource (deps: { storage: Storage, audience: string }, input: ResourceInput): Promise<Resource> {
  const uriProblem = resourceUriProblem(input.uri)
  if (uriProblem !== undefined) throw invalidInput(`${uriProblem}: ${JSON.stringify(input.uri).slice(0, 200)}`)
  if (input.uri === deps.audience) throw invalidInput('this is Gatehouse\'s own audience (AUDIENCE): its tokens need no resource')
  const scope = formatScope(parseScope(input.scope ?? ''))
  const scopeProblem = resourceScopeProblem(scope)
  if (scopeProblem !== undefined) throw invalidInput(`scope: ${scopeProblem}`)
  const name = input.name === undefined || input.name === null || input.name.trim() === '' ? null : input.name.trim()
  // eslint-disable-next-line no-control-regex
  if (name !== null && (name.length > RESOURCE_NAME_MAX_LENGTH || /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(name))) {
    throw invalidInput(`name: at most ${RESOURCE_NAME_MAX_LENGTH} characters, no control or direction characters`)
  }
  try {
    return await deps.storage.resources.create({ uri: input.uri, name, scope })
  } catch (err) {
    if ((err as Error).name === 'ConflictError') throw conflict(`resource ${input.uri.slice(0, 200)} already exists`)
    throw err
  }
}

/**
 * Removes a resource: tokens for it stop being active at introspection, and no grant can name it again
 * (invalid_target), so what users allowed for it ends with it.
 */
export async function removeResource (storage: Storage, uri: string): Promise<Resource> {
  const removed = await storage.resources.delete(uri)
  if (!removed) throw notFound(`no resource ${uri.slice(0, 200)}`)
  return removed
}
