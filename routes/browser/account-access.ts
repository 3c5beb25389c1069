import type { FastifyPluginAsync } from 'fastify'
import { endOtherSessions, endSessionBySid, revokeApp, unlinkProvider } from '../../lib/accounts/account-access.js'
import { endOtherSessionsSchema, endSessionSchema, revokeAppSchema, unlinkProviderSchema } from '../../schemas/accounts.js'
import { doneRedirect, showAccount, signedInOr } from './account-page.js'

const text = (value: unknown): string => typeof value === 'string' ? value : ''

/**
 * The account page's forms that take access back (lib/accounts/account-access.ts): other sessions, one session,
 * an app, a linked provider. Linking one is the upstream sign-in's (upstream.ts, POST /account/providers/link).
 */
const accountAccess: FastifyPluginAsync = async (fastify) => {
  const { storage, events, clock, config } = fastify

  fastify.post('/account/sessions/end-others', { schema: endOtherSessionsSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const count = await endOtherSessions(storage, signedIn.user.id, signedIn.session.idHash, clock.now())
    events.emit({ type: 'sessions_ended', userId: signedIn.user.id, ip: request.ip, scope: 'others', count }, request.log)
    return doneRedirect(reply, 'sessions')
  })

  fastify.post('/account/sessions/end', { schema: endSessionSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const sid = text(request.formFields().sid)
    if (sid === '' || sid === signedIn.session.sid) return showAccount(reply, signedIn, { message: { section: 'sessions', text: 'Choose another session (to end this one, sign out).' } })
    if (!await endSessionBySid(storage, signedIn.user.id, sid, clock.now())) {
      return showAccount(reply, signedIn, { message: { section: 'sessions', text: 'That session has ended already.' } })
    }
    events.emit({ type: 'sessions_ended', userId: signedIn.user.id, ip: request.ip, scope: 'one', count: 1 }, request.log)
    return doneRedirect(reply, 'session')
  })

  fastify.post('/account/apps/revoke', { schema: revokeAppSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const clientId = text(request.formFields().client_id)
    if (clientId === '' || clientId.length > 256) return showAccount(reply, signedIn, { message: { section: 'apps', text: 'Choose an app to revoke.' } })
    const { consents, grants } = await revokeApp({ storage, clock, config }, signedIn.user.id, clientId)
    if (consents === 0 && grants === 0) return showAccount(reply, signedIn, { message: { section: 'apps', text: 'That app has no access to revoke.' } })
    events.emit({ type: 'consent_revoked', userId: signedIn.user.id, clientId, ip: request.ip, grants }, request.log)
    return doneRedirect(reply, 'app')
  })

  fastify.post('/account/providers/unlink', { schema: unlinkProviderSchema, config: { browser: 'form' } }, async (request, reply) => {
    const signedIn = await signedInOr(request, reply)
    if (!signedIn) return reply
    const provider = text(request.formFields().provider)
    const outcome = provider === '' || provider.length > 64 ? 'not_linked' : await unlinkProvider(storage, signedIn.user, provider)
    if (outcome === 'only_way') {
      return showAccount(reply, signedIn, { message: { section: 'providers', text: 'This is your only way to sign in: link another provider first (or ask for a password through "Forgot password").', status: 409 } })
    }
    if (outcome === 'not_linked') return showAccount(reply, signedIn, { message: { section: 'providers', text: 'That provider is not linked to your account.' } })
    events.emit({ type: 'provider_unlinked', userId: signedIn.user.id, provider, ip: request.ip }, request.log)
    return doneRedirect(reply, 'unlinked')
  })
}

export default accountAccess
