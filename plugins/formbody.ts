import fp from 'fastify-plugin'
import formbody from '@fastify/formbody'
import { parseForm } from '../lib/http/body-validation.js'
import { invalidRequest } from '../lib/errors.js'

const FORM_TYPE = /^\s*application\/x-www-form-urlencoded\s*(;|$)/i
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i

/**
 * The charset a form body declares, when it is not UTF-8 (the only one read: WHATWG URL, and what browsers
 * send); undefined for UTF-8 or none declared.
 */
export function foreignFormCharset (contentType: string | undefined): string | undefined {
  if (contentType === undefined || !FORM_TYPE.test(contentType)) return undefined
  const charset = CHARSET.exec(contentType)?.[1]
  if (charset === undefined || /^utf-?8$/i.test(charset)) return undefined
  return charset
}

/**
 * application/x-www-form-urlencoded bodies (the OAuth endpoints and the login form), read as UTF-8 only:
 * a body declaring another charset (`charset=utf-16`, `iso-8859-1`) is refused with 400 invalid_request
 * before it is read, instead of being decoded as UTF-8 into something the client never meant. The parser
 * marks what it makes, so form bodies are type-coerced like query strings and JSON bodies never are
 * (lib/http/body-validation.ts).
 */
export default fp(async (fastify) => {
  await fastify.register(formbody, { parser: parseForm })
  // Only where a form body is read: a GET with a stray Content-Type (as fuzzers send) is not refused for it.
  const withBody = new Set(['POST', 'PUT', 'PATCH'])
  // Callback style, not async: this runs on every request (GET /users/me too), and an async hook costs a promise each time.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (!withBody.has(request.method)) return done(null, payload)
    const charset = foreignFormCharset(request.headers['content-type'])
    if (charset !== undefined) return done(invalidRequest(`form bodies must be UTF-8, not charset=${charset.slice(0, 40)}`))
    done(null, payload)
  })
}, { name: 'formbody' })
