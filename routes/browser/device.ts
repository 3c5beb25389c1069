import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { STEP_UP_PATH, ENROL_PATH, withReturnTo } from '../../lib/browser/return-to.js'
import { AuthorizationError } from '../../lib/errors.js'
import { CLIENTS_PER_SESSION } from '../../lib/limits/table-bounds.js'
import { decideNext, type Decision } from '../../lib/oauth/authorization-flow.js'
import { consentScopes } from '../../lib/oauth/claims.js'
import { stillRegistered, withResourceUris } from '../../lib/oauth/resources.js'
import { deviceAuthorizationRequest, deviceGuessLimits, devicePagePath, formatUserCode, normaliseUserCode } from '../../lib/oauth/device-codes.js'
import type { SignedIn } from '../../lib/oauth/interaction.js'
import type { Client, DeviceCode } from '../../lib/stores/types.js'
import { devicePageSchema, deviceSchema } from '../../schemas/browser.js'
import { showConsent, showLogin } from './pages.js'

/**
 * The device verification page (RFC 8628 §3.3). GET shows the code form (filled in from verification_uri_complete,
 * never submitted by itself: §5.4, remote phishing). POST looks the code up (every try counted per address, §5.1),
 * then runs the same interaction policy as /authorize (lib/oauth/authorization-flow.ts decideNext): the login page
 * and the second-factor pages come back here (return_to /device?user_code=…, lib/browser/return-to.ts), then the
 * consent page, always shown for a device and naming its code, which posts its decision here.
 */
const device: FastifyPluginAsync = async (fastify) => {
  const { storage, clock, config, throttle, events } = fastify

  const showForm = (reply: FastifyReply, input: { userCode?: string, message?: string, status?: number }) =>
    reply.page('device', { csrf: reply.csrfToken(), userCode: input.userCode, message: input.message }, { status: input.status })

  fastify.get('/device', { schema: devicePageSchema, config: { browser: 'page' } }, async (request, reply) => {
    const typed = (request.query as { user_code?: unknown }).user_code
    const userCode = normaliseUserCode(typed)
    return showForm(reply, { userCode: userCode === undefined ? undefined : formatUserCode(userCode) })
  })

  /** The live pending request for the typed code, with its client; undefined (after counting the try) when there is none. */
  async function lookUp (request: FastifyRequest, reply: FastifyReply, userCode: string | undefined): Promise<{ code: DeviceCode, client: Client } | FastifyReply> {
    const wait = await throttle.take(deviceGuessLimits(request.addressKey))
    if (wait !== undefined) {
      events.emit({ type: 'device_code_throttled', ip: request.ip }, request.log)
      reply.header('retry-after', String(wait))
      return showForm(reply, { message: 'Too many codes tried. Wait a few minutes, then try again.', status: 429 })
    }
    const code = userCode === undefined ? undefined : await storage.deviceCodes.findPending(userCode, clock.now())
    const client = code && await storage.clients.find(code.clientId)
    if (!code || !client) return showForm(reply, { userCode: userCode && formatUserCode(userCode), message: 'That code is not valid, or has expired. Check the code your device shows.', status: 400 })
    return { code, client }
  }

  fastify.post('/device', { schema: deviceSchema, config: { browser: 'form' } }, async (request, reply) => {
    const fields = request.formFields()
    const userCode = normaliseUserCode(fields.user_code)
    const found = await lookUp(request, reply, userCode)
    if (!('code' in found)) return found
    const { code, client } = found
    const authz = deviceAuthorizationRequest(client, code, config.issuer, await stillRegistered(code.resources, storage.resources))
    const returnTo = devicePagePath(code.userCode)
    const signedIn = await request.browserSession()
    const { decision } = fields
    const now = clock.now()
    if (decision === 'deny' && signedIn) return decide(request, reply, { code, client, signedIn, approved: false })
    let next: Decision
    try {
      next = await decideNext(storage, { authz, signedIn, now, fresh: { consent: decision === 'allow' }, mfa: config.mfa, log: request.log })
    } catch (err) {
      // A scope the user does not hold (no silent narrowing): the device is refused, as a denial.
      if (err instanceof AuthorizationError && signedIn) return decide(request, reply, { code, client, signedIn, approved: false, reason: 'invalid_scope' })
      throw err
    }
    switch (next.kind) {
      case 'login': return showLogin(reply, { authz, returnTo })
      case 'mfa': return reply.redirect(withReturnTo(next.factors > 0 ? STEP_UP_PATH : ENROL_PATH, returnTo), 303)
      case 'consent':
        if (!signedIn) throw new Error('the consent page needs someone signed in')
        return showConsent(reply, { authz, returnTo, user: signedIn.user, scopes: next.scopes ?? [], userCode: formatUserCode(code.userCode) })
      case 'code':
        // The consent form was just posted (or the client skips consent): what was allowed is remembered, as at /consent.
        if (decision === 'allow') await storage.consents.grant(next.signedIn.user.id, client.id, withResourceUris(consentScopes(next.scopes, undefined), authz.resources), now)
        return decide(request, reply, { code, client, signedIn: next.signedIn, approved: true, scopes: next.scopes })
    }
  })

  /** Records the decision (pending → approved or denied, once) and says so; the device learns it at its next poll. */
  async function decide (request: FastifyRequest, reply: FastifyReply, input: { code: DeviceCode, client: Client, signedIn: SignedIn, approved: boolean, scopes?: string[], reason?: 'user' | 'invalid_scope' }): Promise<FastifyReply> {
    const { code, client, signedIn: { user, session }, approved } = input
    const now = clock.now()
    const done = approved
      ? await storage.deviceCodes.decide(code.userCode, now, {
        approval: { userId: user.id, scope: (input.scopes ?? []).join(' '), authTime: session.authTime, amr: session.amr, sid: session.sid ?? null, credentialVersion: session.credentialVersion }
      })
      : await storage.deviceCodes.decide(code.userCode, now, 'denied')
    // Decided meanwhile (another tab) or expired while the pages were read: the same as an unknown code.
    if (!done) return showForm(reply, { message: 'That code is not valid, or has expired. Check the code your device shows.', status: 400 })
    if (approved) {
      // Back-Channel Logout 1.0 §2.7: the session signed this client in, as a code would have.
      await storage.sessions.addClient(session.idHash, client.id, CLIENTS_PER_SESSION)
      events.emit({ type: 'device_approved', userId: user.id, clientId: client.id, ip: request.ip }, request.log)
    } else {
      events.emit({ type: 'device_denied', userId: user.id, clientId: client.id, ip: request.ip, reason: input.reason ?? 'user' }, request.log)
    }
    return reply.page('device-done', { approved, clientId: client.id })
  }
}

export default device
