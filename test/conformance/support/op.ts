import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { createClient } from '../../../lib/admin/clients.js'
import { createUser, type UserInput } from '../../../lib/admin/users.js'
import { build, freePort, manualClock, type ManualClock } from '../../support/helper.js'
import { launchChromium } from '../../support/chromium.js'
import { ChromiumUserAgent, HttpUserAgent, type Credentials, type UserAgent } from './agent.js'
import type { ConformanceConfig, StaticClient } from './env.js'
import { RelyingParty } from './rp.js'
import { tlsFront } from './tls.js'

/**
 * The OP under test and the suite's side of it, for one test file: Gatehouse on the test backend (a fresh SQLite
 * file or PostgreSQL schema) behind https, on a manual clock (the suite's waits of 1, 2 and 30 seconds move it);
 * the conformance RP's web server; the suite's static clients, registered as `gatehouse clients add` registers
 * them; and a user to sign in as.
 */
export interface ConformanceOp {
  app: FastifyInstance
  issuer: string
  clock: ManualClock
  rp: RelyingParty
  config: ConformanceConfig
  user: Credentials & { id: string }
  /** A fresh browser (no cookies), closed at the end of `t`. */
  userAgent: (t: Test) => Promise<UserAgent>
}

/** The conformance user: every standard claim the user record can hold (OIDC Core §5.1). */
export const CONFORMANCE_USER = { username: 'buffy', password: 'conformance: the slayer signs in' }
const USER_CLAIMS: UserInput = {
  fullName: 'Buffy Anne Summers',
  email: 'buffy@example.test',
  claims: {
    given_name: 'Buffy',
    family_name: 'Summers',
    middle_name: 'Anne',
    nickname: 'Buff',
    profile: 'https://sunnydale.example.test/buffy',
    picture: 'https://sunnydale.example.test/buffy.png',
    website: 'https://buffy.example.test/',
    gender: 'female',
    birthdate: '1981-01-19',
    zoneinfo: 'America/Los_Angeles',
    locale: 'en-US',
    email_verified: true,
    phone_number: '+15555550100',
    phone_number_verified: false,
    address: { formatted: '1630 Revello Drive\nSunnydale, CA 95037\nUSA', street_address: '1630 Revello Drive', locality: 'Sunnydale', region: 'CA', postal_code: '95037', country: 'USA' }
  }
}

/** The suite's two static clients: confidential, basic or post, PKCE optional (the plans send no PKCE), refresh tokens. */
async function registerClient (app: FastifyInstance, id: string, rp: RelyingParty): Promise<StaticClient> {
  const { secret } = await createClient(app.storage, id, {
    isPublic: false,
    grantTypes: ['authorization_code', 'refresh_token'],
    scope: null,
    redirectUris: [`${rp.baseUrl}/callback`],
    postLogoutRedirectUris: [`${rp.baseUrl}/post_logout_redirect`],
    pkce: 'optional'
  })
  if (secret === undefined) throw new Error('a confidential client has a secret')
  return { client_id: id, client_secret: secret }
}

export async function startConformanceOp (t: Test, options: { browser: 'http' | 'chromium' }): Promise<ConformanceOp> {
  const clock = manualClock()
  const port = await freePort()
  const issuer = `https://127.0.0.1:${port}`
  const app = await build(t, { ISSUER: issuer }, { clock })
  await app.listen({ port: 0, host: '127.0.0.1' })
  await tlsFront(t, port, (app.server.address() as AddressInfo).port)
  const rp = await RelyingParty.start(t)
  const user = await createUser(app.storage, app.passwords, CONFORMANCE_USER.username, CONFORMANCE_USER.password, USER_CLAIMS)
  const config: ConformanceConfig = {
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    client: await registerClient(app, 'conformance', rp),
    client2: await registerClient(app, 'conformance-2', rp),
    loginHint: CONFORMANCE_USER.username
  }
  let browser: Browser | undefined
  const userAgent = async (test: Test): Promise<UserAgent> => {
    if (options.browser === 'http') return new HttpUserAgent(rp, CONFORMANCE_USER)
    browser ??= await launchChromium(t)
    const agent = await ChromiumUserAgent.open(browser, rp, CONFORMANCE_USER)
    test.teardown(() => agent.close())
    return agent
  }
  return { app, issuer, clock, rp, config, user: { ...CONFORMANCE_USER, id: user.id }, userAgent }
}
