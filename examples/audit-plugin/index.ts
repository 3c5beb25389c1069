import fp from 'fastify-plugin'

/**
 * An example plugin for PLUGINS_DIR: logs who called which route with what result, for every request that
 * carried a valid bearer token. It is loaded after Gatehouse's own plugins and before any route, so its
 * hook sees every route; `fastify-plugin` (with a name and the plugins it needs) makes it apply to the whole
 * app rather than to its own encapsulated context.
 *
 *   npm run build && PLUGINS_DIR=dist/examples/audit-plugin npm start
 */
export default fp(async (fastify) => {
  fastify.addHook('onResponse', (request, reply, done) => {
    const auth = request.auth
    if (auth) {
      request.log.info({ sub: auth.claims.sub, client_id: auth.claims.client_id, route: request.routeOptions.url, status: reply.statusCode }, 'audit')
    }
    done()
  })
}, { name: 'example-audit', dependencies: ['authenticate'] })
