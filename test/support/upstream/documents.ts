import { createServer } from 'node:http'
import type { Test } from 'tap'
import { startUnreachableIssuer } from './hostile-op.js'

/**
 * Issuers whose discovery document is wrong, for the discovery check (createProvider/updateProvider with
 * checkDiscovery): a tiny http server on 127.0.0.1, port 0, that answers GET <issuer>/.well-known/openid-configuration
 * at two issuers: `wrongIssuer`, a well-formed document naming another issuer, and `notJson`, an HTML page with 200.
 * `dead` is a port that was bound and closed (connection refused). `hits` counts the requests (nothing fetched = 0).
 */
export interface BadIssuers {
  wrongIssuer: string
  /** The issuer `wrongIssuer`'s document names. */
  namedIssuer: string
  notJson: string
  dead: string
  hits: () => number
}

export async function startBadIssuers (t: Test): Promise<BadIssuers> {
  let hits = 0
  let base = ''
  const server = createServer((req, res) => {
    hits++
    if (req.url === '/wrong/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({
        issuer: `${base}/elsewhere`,
        authorization_endpoint: `${base}/elsewhere/auth`,
        token_endpoint: `${base}/elsewhere/token`,
        jwks_uri: `${base}/elsewhere/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256']
      }))
    } else if (req.url === '/html/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><title>Sign in</title><p>Welcome')
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const dead = await startUnreachableIssuer('closed')
  return { wrongIssuer: `${base}/wrong`, namedIssuer: `${base}/elsewhere`, notJson: `${base}/html`, dead: dead.issuer, hits: () => hits }
}
