import fp from 'fastify-plugin'
import { SerialRounds, senderId } from '../lib/ops/outbox.js'
import { sendLogouts, type LogoutResult, type LogoutSenderDeps } from '../lib/oauth/backchannel-logout.js'

export interface BackchannelLogout {
  /**
   * Runs a round now (the schedule's rounds call it too); one round at a time: a call during one waits for it and
   * runs the next (lib/ops/outbox.ts SerialRounds). Resolves with how many messages those rounds claimed.
   */
  run: () => Promise<number>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** OpenID Connect Back-Channel Logout 1.0: the sender of the logout tokens the session store queued. */
    backchannelLogout: BackchannelLogout
  }
}

/** How often an instance looks for logout messages due: the first try after a sign-out comes within this. */
const POLL_MS = 1000

/**
 * Delivers the logout tokens queued in the outbox when sessions end (lib/oauth/backchannel-logout.ts, on the
 * outbox's rounds: lib/ops/outbox.ts): every second, on an unref'd timer stopped at close, each instance claims
 * due messages (a lease: each goes to one instance) and posts them,
 * counting each outcome in gatehouse_backchannel_logouts_total{result} and logging a `backchannel_logout_failed`
 * event when a message is given up.
 */
export default fp(async (fastify) => {
  const { storage, clock, config, metrics, idTokens } = fastify
  const counter = metrics.registry.counter('gatehouse_backchannel_logouts_total',
    'Back-channel logout messages by outcome: delivered, retried (a try failed; tried again later), failed (given up after the last retry), client_gone, dropped (the outbox was full: the oldest went).', ['result'])

  const owner = senderId()
  const report: LogoutSenderDeps['report'] = (result: LogoutResult, { message, attempts, reason, count }) => {
    counter.inc([result], count ?? 1)
    if (result === 'failed') {
      fastify.log.warn({ event: 'backchannel_logout_failed', clientId: message?.clientId, attempts, reason }, 'back-channel logout given up: the client never accepted the logout token')
    } else if (result === 'retried' || result === 'dropped') {
      fastify.log.info({ event: `backchannel_logout_${result}`, clientId: message?.clientId, reason, count }, 'back-channel logout not delivered yet')
    }
  }
  const deps: LogoutSenderDeps = {
    storage,
    clock,
    issuer: config.issuer,
    timeoutMs: config.backchannelLogoutTimeoutMs,
    owner,
    sign: (claims, client, now) => idTokens.logoutToken(claims, now, client.idTokenAlg),
    report
  }

  const rounds = new SerialRounds(async () => [await sendLogouts(deps)])
  const run = async (): Promise<number> => (await rounds.run()).reduce((sum, claimed) => sum + claimed, 0)

  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    timer = setInterval(() => {
      if (rounds.busy) return
      run().catch((err: unknown) => fastify.log.warn({ err }, 'sending back-channel logouts failed'))
    }, POLL_MS).unref()
  })
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    // A round in flight finishes (each post is bounded by BACKCHANNEL_LOGOUT_TIMEOUT_MS) before the store closes.
    await rounds.close()
  })
  fastify.decorate('backchannelLogout', { run } satisfies BackchannelLogout)
}, { name: 'backchannel-logout', dependencies: ['config', 'clock', 'storage', 'metrics', 'id-tokens'] })
