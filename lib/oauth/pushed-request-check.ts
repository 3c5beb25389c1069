import { AuthorizationError, OAuthError } from '../errors.js'
import type { Client, PushedParameters, ResourceStore } from '../stores/types.js'
import { checkAuthorizationRequest, checkResources, clientTarget, type IdTokenHintReader } from './authorize.js'
import { pushedParameters } from './pushed-requests.js'
import { InvalidRequestObject, resolveRequestObject, type RequestObjectDeps } from './request-object.js'

/**
 * RFC 9126 §2.1, §2.3: a pushed authorization request is checked when it is pushed, by the very rules /authorize applies
 * (lib/oauth/authorize.ts: clientTarget, checkAuthorizationRequest, checkResources), with the authenticated client as
 * its client; what /authorize would send back to the client (or show as a page) is the JSON error of the push (400).
 * A signed request object (RFC 9101, `request`; RFC 9126 §3) is verified now (lib/oauth/request-object.ts), and its
 * parameters are what is stored: /authorize reads them as a pushed request, never the object again (its exp may pass
 * during the sign-in). Returns the parameters to store. /authorize checks them again when they are presented (§4).
 */
export async function checkPushedRequest (body: Record<string, unknown>, client: Client, deps: { resources: Pick<ResourceStore, 'find'>, readIdTokenHint: IdTokenHintReader, requestObjects: RequestObjectDeps }): Promise<PushedParameters> {
  // The client authentication already refused a client_id other than the authenticated client's (invalid_request).
  const pushed = { ...pushedParameters(body), client_id: client.id }
  let query: Record<string, unknown>
  try {
    query = await resolveRequestObject(pushed, client, deps.requestObjects)
  } catch (err) {
    if (err instanceof InvalidRequestObject) throw new OAuthError('invalid_request_object', err.message)
    throw err
  }
  const parameters = query === pushed ? pushedParameters(body) : pushedParameters(withoutClientId(query))
  try {
    const target = clientTarget(query, client, (error, description) => { throw new OAuthError(error, description) })
    await checkResources(query, checkAuthorizationRequest(query, target, deps.readIdTokenHint), deps.resources)
  } catch (err) {
    if (err instanceof AuthorizationError) throw new OAuthError(err.error, err.message)
    throw err
  }
  return parameters
}

function withoutClientId (query: Record<string, unknown>): Record<string, unknown> {
  const { client_id: _clientId, ...rest } = query
  return rest
}
