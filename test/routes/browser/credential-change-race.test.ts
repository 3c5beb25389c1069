import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { importUsers } from '../../../lib/admin/user-import.js'
import { updateUser } from '../../../lib/admin/users.js'
import { argon2Params, createPasswordHasher } from '../../../lib/credentials/passwords.js'
import { loadConfig } from '../../../lib/config.js'
import { openStorage } from '../../../lib/stores/index.js'
import { field, pkce, REDIRECT, authorizeUrl } from '../../support/browser.js'
import { addClient, addUser, basic, buildListening, form, sharedDatabaseUrl } from '../../support/helper.js'

// SECURITY-CASES X2 for browser sessions, as real concurrent requests on a listening server: a password change or a
// disable lands while a login-form sign-in with the old password waits for its hash. Whatever the interleaving, the
// session that login may have made must not mint a code (prompt=none answers login_required), and no refresh
// family may come out of it: 0 surviving sessions in 20 rounds. The changes come through the admin API and through
// the CLI's code path (the same lib/admin functions on a store of its own, as `gatehouse users …` opens one).

/** Argon2 at the production cost: the hash takes long enough for a change to land while a login waits for it. */
const SLOW_HASH = { ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2', ARGON2_PARALLELISM: '1' }

interface Reply { status: number, location: string | null, body: string }

/** A browser over fetch: keeps its cookies, never follows redirects. */
class FetchBrowser {
  readonly cookies = new Map<string, string>()
  constructor (private readonly base: string) {}

  async send (method: 'GET' | 'POST', path: string, fields?: Record<string, string>): Promise<Reply> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ') }
    if (fields) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await fetch(this.base + path, { method, headers, body: fields ? form(fields) : undefined, redirect: 'manual' })
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      const value = pair.slice(eq + 1)
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(pair.slice(0, eq))
      else this.cookies.set(pair.slice(0, eq), value)
    }
    return { status: res.status, location: res.headers.get('location'), body: await res.text() }
  }
}

type Kind = 'admin API password change' | 'CLI password change' | 'admin API disable' | 'CLI disable' | 'CLI import --update'
const KINDS: Kind[] = ['admin API password change', 'CLI password change', 'admin API disable', 'CLI disable', 'CLI import --update']

t.test('X2: a password change or a disable racing a login-form sign-in leaves 0 surviving sessions in 20 rounds', async (t) => {
  const databaseUrl = await sharedDatabaseUrl(t)
  const { app, url } = await buildListening(t, { DATABASE_URL: databaseUrl, ...SLOW_HASH })
  // The CLI's side: its own store on the same database and its own hasher, as cli/index.ts opens them.
  const cliStore = await openStorage(databaseUrl)
  t.teardown(() => cliStore.close())
  const cliConfig = loadConfig({ DATABASE_URL: databaseUrl, ...SLOW_HASH })
  const cliDeps = { storage: cliStore, passwords: await createPasswordHasher(argon2Params(cliConfig)), clock: app.clock, config: cliConfig }

  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const secret = (await addClient(app, 'web', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT] }))!
  await app.storage.clients.update('web', { skipConsent: true })
  const rootToken = await fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'password', username: 'root', password: 'root-pw' }) })
  const admin = { authorization: `Bearer ${(await rootToken.json() as { access_token: string }).access_token}`, 'content-type': 'application/json' }
  const patch = async (username: string, body: unknown) => {
    const res = await fetch(`${url}/admin/users/${username}`, { method: 'PATCH', headers: admin, body: JSON.stringify(body) })
    if (res.status !== 200) throw new Error(`PATCH ${username}: ${res.status} ${await res.text()}`)
  }
  const exchange = async (code: string, verifier: string) => {
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('web', secret) },
      body: form({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT })
    })
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }

  let surviving = 0
  for (let round = 0; round < 20; round++) {
    const kind = KINDS[round % KINDS.length]!
    // 2–20 ms, varied from round to round.
    const delay = 2 + (round * 7) % 19
    const username = `user${round}`
    const user = await addUser(app, username, 'old-pw', { scope: 'items:read' })
    const browser = new FetchBrowser(url)
    const { verifier, challenge } = pkce()
    const request = { response_type: 'code', client_id: 'web', redirect_uri: REDIRECT, scope: 'openid', state: `s${round}`, code_challenge: challenge, code_challenge_method: 'S256' }
    const page = await browser.send('GET', authorizeUrl(request))
    t.equal(page.status, 200, `round ${round}: the login page`)
    const loginForm = () => browser.send('POST', '/login', { username, password: 'old-pw', csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })

    let login: Reply
    if (kind === 'admin API password change' || kind === 'CLI password change') {
      // The change hashes the new password first; the login with the old one is sent 2–20 ms after it started.
      const change = kind === 'admin API password change'
        ? patch(username, { password: 'new-pw' })
        : updateUser(cliDeps, username, { password: 'new-pw' })
      await sleep(delay)
      ;[login] = await Promise.all([loginForm(), change])
    } else {
      // Nothing to hash in these changes: the login goes first, and the change lands 2–20 ms later, while the
      // login's hash is being computed (then the user is enabled again, which must revive nothing).
      const pending = loginForm()
      await sleep(delay)
      if (kind === 'admin API disable') await patch(username, { disabled: true })
      else if (kind === 'CLI disable') await updateUser(cliDeps, username, { disabled: true })
      else {
        const line = JSON.stringify({ username, password_hash: await cliDeps.passwords.hash('imported-pw'), sub: user.id })
        await importUsers(cliDeps, (async function * () { yield `${line}\n` })(), { update: true })
      }
      login = await pending
      if (kind === 'admin API disable') await patch(username, { disabled: false })
      else if (kind === 'CLI disable') await updateUser(cliDeps, username, { disabled: false })
    }

    let survived = false
    // A code the login itself may have sent back: no tokens from it now.
    const back = login.location?.startsWith(REDIRECT) ? new URL(login.location).searchParams.get('code') : null
    if (back) {
      const tokens = await exchange(back, verifier)
      if (tokens.status === 200) survived = true
      t.equal(tokens.status, 400, `round ${round} (${kind}, ${delay} ms): the login's code gives no tokens`)
      t.notOk(tokens.body.refresh_token, `round ${round}: no refresh family`)
    }
    // The session cookie, if any: prompt=none must not give a code.
    const silent = pkce()
    const again = await browser.send('GET', authorizeUrl({ ...request, prompt: 'none', state: `again${round}`, code_challenge: silent.challenge }))
    const params = new URL(again.location ?? 'http://none.invalid/').searchParams
    if (params.get('code')) {
      survived = true
      const tokens = await exchange(params.get('code')!, silent.verifier)
      t.notOk(tokens.body.refresh_token, `round ${round}: no refresh family from the session`)
    }
    t.equal(params.get('error'), 'login_required', `round ${round} (${kind}, ${delay} ms, login ${login.status}): prompt=none answers login_required`)
    const sessions = await app.storage.sessions.listForUser(user.id, app.clock.now())
    if (sessions.length > 0) survived = true
    t.equal(sessions.length, 0, `round ${round}: no session of ${username} left in the store`)
    if (survived) surviving++
  }
  t.equal(surviving, 0, '0 surviving sessions in 20 rounds')
})
