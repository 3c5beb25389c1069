import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify'

/** What a rendered page's own CSP must allow: its inline style (by nonce), where its forms may post, its nonce'd scripts if it has any. */
export interface PageSources { styleNonce: string, formTargets: readonly string[], scriptNonce?: string | undefined, imageSources?: readonly string[] }

declare module 'fastify' {
  interface FastifyReply {
    /** Set by `reply.page` (plugins/views.ts) for the page it renders; this plugin writes the policy from it. */
    pageSources: PageSources | null
  }
}

/** Any other HTML (Swagger UI brings its own policy, which gets frame-ancestors 'none' added). */
const BASE_CSP = "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'"
/** RFC 6797: a year, this host only (includeSubDomains would bind every subdomain of the operator's domain). */
const HSTS = 'max-age=31536000'

/**
 * The one home of the HTML security headers (RFC 9700 §4.16, ASVS 3.4). Every HTML reply (the login, consent,
 * error and signed-out pages, Swagger UI): a CSP with `frame-ancestors 'none'` (for a page of plugins/views.ts,
 * nothing but its nonce'd style and forms posting here or to the client the flow returns to), X-Frame-Options
 * DENY, no referrer, nosniff, no-store, and `Cross-Origin-Opener-Policy: same-origin` (no other site's window
 * keeps a handle on a sign-in page). Every reply of a browser route (`config.browser`, plugins/browser-session.ts),
 * redirects included: no-store, no-cache and no referrer, so no code or state is cached or leaks through a Referer
 * (RFC 9700 §4.2.4). With an https issuer, every reply: `Strict-Transport-Security` (browsers ignore it over
 * http, where it is not sent). Pages load nothing from third parties (Swagger UI's assets are served locally).
 */
export default fp(async (fastify) => {
  const https = fastify.config.issuer.startsWith('https:')
  fastify.decorateReply('pageSources', null)

  // Per route, not a global hook: the API's hot routes (/token, /users/me) pay nothing for the browser's rules.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (route.config?.browser === undefined) return
    route.onRequest = [browserNoStore, ...[route.onRequest ?? []].flat()]
  })

  // Callback style, not async: this runs on every response, and an async hook costs a promise each time.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (https) reply.header('strict-transport-security', HSTS)
    const type = reply.getHeader('content-type')
    if (typeof type === 'string' && type.startsWith('text/html')) {
      const csp = reply.getHeader('content-security-policy')
      reply.header('content-security-policy', reply.pageSources ? pageCsp(reply.pageSources) : typeof csp === 'string' && csp ? withFrameAncestorsNone(csp) : BASE_CSP)
      reply.header('x-frame-options', 'DENY')
      reply.header('referrer-policy', 'no-referrer')
      reply.header('x-content-type-options', 'nosniff')
      reply.header('cache-control', 'no-store')
      reply.header('cross-origin-opener-policy', 'same-origin')
    }
    done(null, payload)
  })
}, { name: 'html-security-headers', dependencies: ['config'] })

const browserNoStore: onRequestHookHandler = (_request: FastifyRequest, reply: FastifyReply, done) => {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache').header('referrer-policy', 'no-referrer')
  done()
}

/**
 * A page of plugins/views.ts: nothing but its own style and images, forms posting here or to `formTargets`, and no
 * script but the nonce'd one of a page that has one (the form_post page's submit).
 */
function pageCsp (sources: PageSources): string {
  const formAction = ["'self'", ...new Set(sources.formTargets)].join(' ')
  // A page with scripts may call back here (the passkey buttons ask for their challenge), nowhere else.
  const script = sources.scriptNonce === undefined ? '' : ` script-src 'nonce-${sources.scriptNonce}'; connect-src 'self';`
  // A registered client's logo (the consent page) is the one image from elsewhere: its exact URL, https only.
  const images = ["'self'", 'data:', ...new Set(sources.imageSources ?? [])].join(' ')
  return `default-src 'none'; style-src 'nonce-${sources.styleNonce}';${script} img-src ${images}; form-action ${formAction}; base-uri 'none'; frame-ancestors 'none'`
}

function withFrameAncestorsNone (csp: string): string {
  const directives = csp.split(';').map((d) => d.trim()).filter((d) => d && !/^frame-ancestors\b/i.test(d))
  return [...directives, "frame-ancestors 'none'"].join('; ')
}
