import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import Provider, { type Configuration } from 'oidc-provider'
import { CookieJar, isCallback } from './jar.js'

/**
 * A real upstream OpenID provider for the provider tests: node-oidc-provider (the certified OP) on loopback,
 * port 0, with its development interactions (any login name is accepted as the account id, the password is
 * ignored, then a consent page), RS256 keys (ES256 too when asked), one confidential client registered for
 * Gatehouse, PKCE required, and two accounts: `verified` (email_verified true) and `unverified`.
 *
 * The accounts are live: change `op.accounts.verified.name` and the next sign-in asserts the new name.
 * `signInAt(authorizationUrl, 'verified')` plays the browser at the OP over fetch (a cookie jar, manual
 * redirects, its login and consent forms) and returns the URL the OP sends the browser back to (Gatehouse's
 * callback with code, state and iss): feed its path to app.inject.
 */

export interface UpstreamAccount {
  sub: string
  email: string
  email_verified: boolean
  name: string
  preferred_username: string
}

export interface UpstreamOpOptions {
  /** Gatehouse's callback URL(s) for this provider: `<ISSUER>/login/<name>/callback`. */
  redirectUris: string | string[]
  clientId?: string
  clientSecret?: string
  /** How Gatehouse authenticates at the token endpoint (openid-client v6 uses client_secret_post by default). */
  tokenEndpointAuthMethod?: 'client_secret_post' | 'client_secret_basic'
  /** The ID token's alg (default RS256); both keys are always in the JWKS. */
  idTokenAlg?: 'RS256' | 'ES256'
  /**
   * Put email/profile claims in the ID token too (default false: as node-oidc-provider's conformIdTokenClaims,
   * a code-flow ID token carries only sub and the protocol claims, so the relying party must call /userinfo).
   */
  claimsInIdToken?: boolean
  /** Extra or replacement accounts, by key (`verified` and `unverified` exist unless replaced). */
  accounts?: Record<string, UpstreamAccount>
  /** The host in the issuer URL (default 127.0.0.1). */
  host?: '127.0.0.1' | 'localhost'
}

export interface UpstreamOp {
  issuer: string
  clientId: string
  clientSecret: string
  accounts: Record<string, UpstreamAccount> & { verified: UpstreamAccount, unverified: UpstreamAccount }
  /** The node-oidc-provider instance (for its events or its Grant/Session models). */
  provider: Provider
  /**
   * Signs `account` (a key of `accounts`) in at the OP and allows its consent page; returns the callback URL
   * (to Gatehouse) the OP redirects to. Pass a jar to keep the OP session for a second sign-in.
   */
  signInAt: (authorizationUrl: string, account: string, jar?: CookieJar) => Promise<string>
  /** Opens the OP's login page and presses its Cancel link: the callback URL then carries error=access_denied. */
  cancelAt: (authorizationUrl: string, jar?: CookieJar) => Promise<string>
  /** Every authorization request the OP received (its query), oldest first. */
  authorizationRequests: URLSearchParams[]
  close: () => Promise<void>
}

export const DEFAULT_ACCOUNTS = (): { verified: UpstreamAccount, unverified: UpstreamAccount } => ({
  verified: { sub: 'op-user-verified', email: 'vera@upstream.test', email_verified: true, name: 'Vera Verified', preferred_username: 'vera' },
  unverified: { sub: 'op-user-unverified', email: 'uma@upstream.test', email_verified: false, name: 'Uma Unverified', preferred_username: 'uma' }
})

async function signingKeys (): Promise<JWK[]> {
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const ec = await generateKeyPair('ES256', { extractable: true })
  return [
    { ...await exportJWK(rsa.privateKey), kid: 'op-rs256', alg: 'RS256', use: 'sig' },
    { ...await exportJWK(ec.privateKey), kid: 'op-es256', alg: 'ES256', use: 'sig' }
  ]
}

export async function startUpstreamOp (opts: UpstreamOpOptions): Promise<UpstreamOp> {
  const redirectUris = Array.isArray(opts.redirectUris) ? opts.redirectUris : [opts.redirectUris]
  const clientId = opts.clientId ?? 'gatehouse'
  const clientSecret = opts.clientSecret ?? randomBytes(24).toString('base64url')
  const accounts = { ...DEFAULT_ACCOUNTS(), ...opts.accounts } as UpstreamOp['accounts']
  const authorizationRequests: URLSearchParams[] = []

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => { res.statusCode = 503; res.end() }
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/auth?')) authorizationRequests.push(new URL(req.url, 'http://op').searchParams)
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://${opts.host ?? '127.0.0.1'}:${(server.address() as { port: number }).port}`

  const configuration: Configuration = {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: opts.tokenEndpointAuthMethod ?? 'client_secret_post',
      id_token_signed_response_alg: opts.idTokenAlg ?? 'RS256'
    }],
    jwks: { keys: await signingKeys() as never },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username']
    },
    conformIdTokenClaims: !opts.claimsInIdToken,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
    async findAccount (_ctx, id) {
      const account = Object.values(accounts).find((a) => a.sub === id)
      if (!account) return undefined
      return { accountId: account.sub, claims: async () => ({ ...account }) }
    }
  }
  const provider = new Provider(issuer, configuration)
  handler = provider.callback()

  /** Follows the OP's redirects and answers its login and consent pages until it redirects to Gatehouse. */
  async function drive (authorizationUrl: string, jar: CookieJar, onPage: (html: string, url: string) => { url: string, form?: Record<string, string> }): Promise<string> {
    let next: { url: string, form?: Record<string, string> } = { url: authorizationUrl }
    for (let hop = 0; hop < 20; hop++) {
      const res = await jar.fetch(next.url, next.form ? { form: next.form } : {})
      const location = res.headers.get('location')
      if (res.status >= 300 && res.status < 400 && location) {
        const target = new URL(location, next.url).href
        if (isCallback(target, redirectUris)) return target
        next = { url: target }
        continue
      }
      const html = await res.text()
      if (res.status !== 200) throw new Error(`upstream OP: ${res.status} at ${next.url}: ${html.slice(0, 300)}`)
      next = onPage(html, next.url)
    }
    throw new Error('upstream OP: too many hops')
  }

  const formAction = (html: string, url: string) => new URL((/<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? '').replace(/&amp;/g, '&'), url).href

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    provider,
    authorizationRequests,
    signInAt (authorizationUrl, account, jar = new CookieJar()) {
      const who = accounts[account]
      if (!who) throw new Error(`no account ${account} at the upstream OP`)
      return drive(authorizationUrl, jar, (html, url): { url: string, form?: Record<string, string> } => {
        if (html.includes('name="prompt" value="login"')) return { url: formAction(html, url), form: { prompt: 'login', login: who.sub, password: 'any' } }
        if (html.includes('name="prompt" value="consent"')) return { url: formAction(html, url), form: { prompt: 'consent' } }
        throw new Error(`upstream OP: unexpected page at ${url}: ${html.slice(0, 300)}`)
      })
    },
    cancelAt (authorizationUrl, jar = new CookieJar()) {
      return drive(authorizationUrl, jar, (html, url) => {
        const abort = /href="([^"]*\/abort)"/.exec(html)?.[1]
        if (!abort) throw new Error(`upstream OP: no Cancel link at ${url}`)
        return { url: new URL(abort, url).href }
      })
    },
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
