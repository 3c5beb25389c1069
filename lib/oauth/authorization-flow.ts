import type { FastifyBaseLogger } from 'fastify'
import { AuthorizationError } from '../errors.js'
import type { Config } from '../config.js'
import type { Storage } from '../stores/types.js'
import { usedTwoFactors } from '../mfa/assurance.js'
import { issueCode } from './authorization-codes.js'
import { responseTo, type AuthorizationRequest, type ClientResponse } from './authorize.js'
import { nextStep, type Fresh, type PromptName, type SignedIn } from './interaction.js'
import { spendPushedRequest } from './pushed-requests.js'

/**
 * The I/O around the interaction policy (lib/oauth/interaction.ts), for every page that moves an authorization
 * request on: read this user's consent, decide, log why a page is needed, and issue the code.
 */

/** A page to show (a prompt of the interaction policy), or a code to issue. Refusals are thrown. */
export type Decision =
  /** `factors`: the signed-in user's confirmed second factors (0 when nobody is, or the session has two), so the mfa page knows step-up from enrolment. */
  | { kind: PromptName, reason: string, scopes: string[] | undefined, factors: number }
  | { kind: 'code', scopes: string[], signedIn: SignedIn }

/**
 * The next step for `authz` in this browser. A refusal (prompt=none, a scope the user does not hold) is thrown as
 * the AuthorizationError that goes back to the client. Why a page is needed goes to the log (debug), so an
 * operator can see why a login page was shown.
 */
export async function decideNext (storage: Storage, input: { authz: AuthorizationRequest, signedIn: SignedIn | undefined, now: number, fresh?: Fresh, mfa: Config['mfa'], log: FastifyBaseLogger }): Promise<Decision> {
  const { authz, signedIn, now, fresh, mfa, log } = input
  // Nothing to read when nobody is signed in, or when the consent form was just posted.
  const consent = signedIn === undefined || fresh?.consent === true ? undefined : await storage.consents.find(signedIn.user.id, authz.client.id)
  // Read on every decision that can use it, never remembered in the session: a factor enrolled or removed since counts
  // at once. A session with two factors passes every mfa check whatever the count (interaction.ts), so none is read.
  const factors = signedIn === undefined || usedTwoFactors(signedIn.session.amr) ? 0 : await storage.factors.countConfirmed(signedIn.user.id)
  const step = nextStep({ authz, signedIn, consent, now, fresh, mfa, factors })
  if (step.kind === 'refused') {
    log.debug({ clientId: authz.client.id, error: step.error, reason: step.reason }, 'authorization request refused')
    throw new AuthorizationError(step.error, step.description, authz)
  }
  if (step.kind === 'code') {
    if (signedIn === undefined) throw new Error('the interaction policy issued a code with nobody signed in')
    return { ...step, signedIn }
  }
  log.debug({ clientId: authz.client.id, prompt: step.kind, reason: step.reason }, 'authorization request needs a page')
  return { ...step, factors }
}

/**
 * Issues the code and returns the answer that takes it to the client: `code`, `state` and `iss` (RFC 9207), in the
 * request's response mode. A pushed request (RFC 9126) is spent first: one answer per request_uri, whoever races.
 */
export async function codeResponse (deps: { storage: Storage, issuer: string }, authz: AuthorizationRequest, decision: { scopes: string[], signedIn: SignedIn }, now: number): Promise<ClientResponse> {
  const { user, session } = decision.signedIn
  await spendPushedRequest(deps.storage.pushedRequests, authz.pushed, now)
  const code = await issueCode(deps.storage, { request: authz, user, scopes: decision.scopes, authTime: session.authTime, sessionHash: session.idHash, sid: session.sid ?? null, amr: session.amr, credentialVersion: session.credentialVersion, now })
  return responseTo(authz, { code, state: authz.state, iss: deps.issuer })
}
