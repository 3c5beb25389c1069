import fp from 'fastify-plugin'

const BASE_CSP = "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'"

/**
 * Every HTML page (Swagger UI now; the login and consent pages later) gets the anti-clickjacking and
 * hygiene headers of RFC 9700 §4.16 and ASVS 3.4: `frame-ancestors 'none'` (added to a page's own CSP
 * when it has one), X-Frame-Options DENY, no referrer, nosniff, no-store. Pages load nothing from
 * third parties (the Swagger UI assets are served locally).
 */
export default fp(async (fastify) => {
  // Callback style, not async: this runs on every response, and an async hook costs a promise each time.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    const type = reply.getHeader('content-type')
    if (typeof type === 'string' && type.startsWith('text/html')) {
      const csp = reply.getHeader('content-security-policy')
      reply.header('content-security-policy', typeof csp === 'string' && csp ? withFrameAncestorsNone(csp) : BASE_CSP)
      reply.header('x-frame-options', 'DENY')
      reply.header('referrer-policy', 'no-referrer')
      reply.header('x-content-type-options', 'nosniff')
      reply.header('cache-control', 'no-store')
    }
    done(null, payload)
  })
}, { name: 'html-security-headers' })

function withFrameAncestorsNone (csp: string): string {
  const directives = csp.split(';').map((d) => d.trim()).filter((d) => d && !/^frame-ancestors\b/i.test(d))
  return [...directives, "frame-ancestors 'none'"].join('; ')
}
