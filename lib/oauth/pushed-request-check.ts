import { AuthorizationError, OAuthError } from '../errors.js'
import type { Client, PushedParameters, ResourceStore } from '../stores/types.js'
import { checkAuthorizationRequest, checkResources, clientTarget, type IdTokenHintReader } from './authorize.js'
import { pushedParameters } from './pushed-requests.js'

/**
 * RFC 9126 §2.1, §2.3: a pushed authorization request is checked when it is pushed, by the very rules /authorize applies
 * (lib/oauth/authorize.ts: clientTarget, checkAuthorizationRequest, checkResources), with the authenticated client as
 * its client; what /authorize would send back to the client (or show as a page) is the JSON error of the push (400).
 * Returns the parameters to store. /authorize checks them again when they are presented (§4).
 */
export async function checkPushedRequest (body: Record<string, unknown>, client: Client, deps: { resources: Pick<ResourceStore, 'find'>, readIdTokenHint: IdTokenHintReader }): Promise<PushedParameters> {
  const parameters = pushedParameters(body)
  // requireClient already refused a client_id other than the authenticated client's (invalid_request).
  const query = { ...parameters, client_id: client.id }
  try {
    const target = clientTarget(query, client, (error, description) => { throw new OAuthError(error, description) })
    await checkResources(query, checkAuthorizationRequest(query, target, deps.readIdTokenHint), deps.resources)
  } catch (err) {
    if (err instanceof AuthorizationError) throw new OAuthError(err.error, err.message)
    throw err
  }
  return parameters
}
