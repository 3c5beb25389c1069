import Fastify from 'fastify'
import cluster from 'node:cluster'
import net from 'node:net'
import type { Server } from 'node:http'
import fp from 'fastify-plugin'
import { pino } from 'pino'
import app from './app.js'
import { systemClock } from './lib/clock.js'
import { superviseWorkers } from './lib/ops/cluster.js'
import { startupWarnings } from './lib/ops/startup-warnings.js'
import { startBanner } from './lib/ops/start-banner.js'
import { prettyDestination } from './lib/ops/pretty-log.js'
import { PROJECT_ROOT } from './lib/paths.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { shareCounters } from './lib/limits/cluster-counters.js'
import { MemoryCounterStore } from './lib/limits/throttle.js'
import { SIGN_IN_SCRIPTS } from './lib/oauth/sign-in-reservation.js'
import { shareProofReplay } from './lib/oauth/cluster-proof-replay.js'
import { MemoryProofReplay } from './lib/oauth/dpop-replay.js'
import { ConfigError, loadConfig, type Config } from './lib/config.js'
import { ensureSigningKey } from './lib/keys/signing-keys.js'
import { serverOptions } from './lib/http/server-options.js'
import { openStorage } from './lib/stores/index.js'

async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  if (config.workers > 1 && cluster.isPrimary) return primary(config)
  return serve(config)
}

/**
 * WORKERS > 1: this process forks the workers and looks after them (lib/ops/cluster.ts); it serves nothing. It
 * opens the store first, once: migrations and the first signing key happen here, before any worker starts,
 * so N workers starting together find nothing to create (each still checks, under the store's own locks).
 */
async function primary (config: Config): Promise<void> {
  const log = config.logFormat === 'pretty' ? pino({ level: config.logLevel }, prettyDestination()) : pino({ level: config.logLevel })
  for (const warning of startupWarnings(config)) log.warn(warning)
  const storage = await openStorage(config.databaseUrl, systemClock)
  try {
    await ensureSigningKey(storage.keys, systemClock.now())
  } finally {
    await storage.close()
  }
  // Every worker's rate-limit counters (lib/limits/cluster-counters.ts): held here, so limits hold per machine.
  shareCounters(new MemoryCounterStore(systemClock, config.limitCountersMax, (message) => log.warn(message)), SIGN_IN_SCRIPTS)
  // And their DPoP replay memory (lib/oauth/cluster-proof-replay.ts): a proof is accepted once per machine.
  shareProofReplay(new MemoryProofReplay(systemClock))
  const { done } = superviseWorkers(config.workers, log, systemClock)
  process.exit(await done)
}

/** One server process: the only one (WORKERS=1), or one of the workers. */
async function serve (config: Config): Promise<void> {
  const fastify = Fastify(serverOptions(config))
  // Once per server: with WORKERS, the primary has said it.
  if (!cluster.isWorker) for (const warning of startupWarnings(config)) fastify.log.warn(warning)
  await fastify.register(fp(app), { config })

  let closing = false
  // While closing, every reply says `Connection: close`, so each keep-alive connection ends with its
  // next response and its client opens a new one, which is refused: nothing it sends is lost.
  // (Callback style: it runs on every response, and an async hook would cost a promise each time.)
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    fastify.log.info({ signal }, 'shutting down: no new connections; draining the open ones')
    setTimeout(() => { fastify.log.error('shutdown took too long; exiting'); process.exit(1) }, 15_000).unref()
    drain(fastify.server, DRAIN_MS)
      .then(() => fastify.close())
      .then(() => process.exit(0), (err) => { fastify.log.error({ err }, 'error during shutdown'); process.exit(1) })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  // A worker whose primary is gone (killed) stops too, rather than serve on unsupervised.
  if (cluster.isWorker) process.on('disconnect', () => shutdown('disconnect'))

  await fastify.listen({ port: config.port, host: config.host })
  // The banner, once per server: here, or from the first worker (a restarted one has a new id, and says nothing).
  if (!cluster.isWorker || cluster.worker?.id === 1) await logBanner(fastify, config)
}

/** The start banner (lib/ops/start-banner.ts): the issuer, docs, metadata, database and, on an empty store, how to make the first user. */
async function logBanner (fastify: ReturnType<typeof Fastify>, config: Config): Promise<void> {
  try {
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
    const { msg, ...facts } = startBanner(config, await fastify.storage.users.count(), version)
    fastify.log.info({ banner: true, ...facts }, msg)
  } catch (err) {
    // Serving matters more than saying so: a store that cannot count now is the readiness check's business.
    fastify.log.warn({ err }, 'could not write the start banner')
  }
}

/** How long open keep-alive connections may take to send their last request before they are closed. */
const DRAIN_MS = 3_000

/**
 * Stops accepting connections and waits until the open ones have ended (each after its next reply, which
 * says `Connection: close`), at most `limit` ms. Node's http `server.close()`, which `fastify.close()`
 * calls, would at once destroy every keep-alive connection that is idle at that instant: a client that
 * was just writing its next request on one gets a reset, its request sent and lost. So only the
 * listening socket is closed here (net.Server's own close, without http's idle-connection sweep);
 * `fastify.close()` then runs on the connections left (idle for the whole drain, or with a request still
 * in flight, which it lets finish).
 */
async function drain (server: Server, limit: number): Promise<void> {
  net.Server.prototype.close.call(server)
  const deadline = Date.now() + limit
  const open = () => new Promise<number>((resolve) => server.getConnections((err, count) => resolve(err ? 0 : count)))
  while (Date.now() < deadline && await open() > 0) await new Promise((resolve) => setTimeout(resolve, 10))
}

main().catch((err) => {
  process.stderr.write(`gatehouse: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
