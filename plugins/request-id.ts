import fp from 'fastify-plugin'

/**
 * Every reply carries its request's id (`X-Request-Id`): a trusted proxy's own when it sent a usable one (see
 * lib/http/request-context.ts), so a report "request X failed" leads straight to the log lines of X.
 */
export default fp(async (fastify) => {
  // Callback style, not async: this runs on every request, and an async hook costs a promise each time.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
}, { name: 'request-id' })
