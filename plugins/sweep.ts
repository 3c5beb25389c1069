import fp from 'fastify-plugin'
import { sweepRound, type SweepRound } from '../lib/ops/sweep.js'
import type { GrowingTable } from '../lib/stores/types.js'

export interface Sweep {
  /** Runs a round now (the schedule's own rounds call it too); one round at a time: a call during one shares it. */
  run: () => Promise<SweepRound>
}

declare module 'fastify' {
  interface FastifyInstance {
    sweep: Sweep
  }
}

/**
 * Expired rows (sessions, codes, pending upstream sign-ins, refresh-token families, deny-list entries) deleted
 * every SWEEP_INTERVAL_SECONDS by one of the instances (lib/ops/sweep.ts), and the growing tables' row counts
 * as `gatehouse_table_rows`, counted by each instance's round so a scrape costs no query.
 */
export default fp(async (fastify) => {
  const { storage, clock, config, metrics } = fastify
  const intervalSeconds = config.sweepIntervalSeconds
  let rows: Record<GrowingTable, number> | undefined
  metrics.registry.gauge('gatehouse_table_rows', 'Rows in the tables that grow with use (sessions, session_clients, authorization_codes, upstream_transactions, consents, grants, refresh_tokens, revocations, outbox), as counted by the last sweep round (every SWEEP_INTERVAL_SECONDS).',
    () => rows === undefined ? [] : Object.entries(rows).map(([table, value]) => ({ labels: { table }, value })))

  let running: Promise<SweepRound> | undefined
  const run = (): Promise<SweepRound> => {
    running ??= sweepRound(storage, { now: clock.now(), intervalSeconds, eventsKeepDays: config.eventsKeepDays })
      .then((round) => {
        rows = round.rows
        if (round.swept) fastify.log.debug({ swept: round.swept }, 'expired rows swept')
        return round
      })
      .finally(() => { running = undefined })
    return running
  }

  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    // unref'd: the schedule never keeps a process alive that is otherwise done.
    timer = setInterval(() => {
      run().catch((err: unknown) => fastify.log.warn({ err }, 'sweeping expired rows failed'))
    }, intervalSeconds * 1000).unref()
  })
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    // A round in flight finishes before the store closes (this plugin closes before the storage plugin).
    await running?.catch(() => {})
  })
  fastify.decorate('sweep', { run } satisfies Sweep)
}, { name: 'sweep', dependencies: ['config', 'clock', 'storage', 'metrics'] })
