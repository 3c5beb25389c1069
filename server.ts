import Fastify from 'fastify'
import fp from 'fastify-plugin'
import app from './app.js'
import { ConfigError, loadConfig, type Config } from './lib/config.js'
import { serverOptions } from './lib/server-options.js'

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
