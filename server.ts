import Fastify, { type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import app from './app.js'
import { ConfigError, loadConfig, type Config } from './lib/config.js'

/** Secrets that must never reach the log (SECURITY-CASES L1). */
export const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  'password', 'client_secret', 'refresh_token', 'access_token', 'code', 'code_verifier'
]

export function serverOptions (config: Config): FastifyServerOptions {
  return {
    logger: {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: {
        // The query string can carry a token someone put there by mistake: log the path only.
        req: (req) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip })
      }
    },
    disableRequestLogging: !config.accessLog,
    requestTimeout: 30_000,
    keepAliveTimeout: 72_000,
    // On close, idle keep-alive sockets are dropped at once; in-flight requests finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true
  }
}

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
  const fastify = Fastify(serverOptions(config))
  await fastify.register(fp(app), { config })

  let closing = false
  // `close()` drops idle keep-alive sockets once, at its start; a socket whose request is still in flight
  // would stay open after its reply (until the client's keep-alive ends) and hold the close up. While
  // closing, every reply says `Connection: close`, so each such socket ends with its last response.
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    fastify.log.info({ signal }, 'shutting down: finishing in-flight requests')
    setTimeout(() => { fastify.log.error('shutdown took too long; exiting'); process.exit(1) }, 15_000).unref()
    fastify.close().then(() => process.exit(0), (err) => { fastify.log.error({ err }, 'error during shutdown'); process.exit(1) })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  await fastify.listen({ port: config.port, host: config.host })
}

main().catch((err) => {
  process.stderr.write(`gatehouse: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
