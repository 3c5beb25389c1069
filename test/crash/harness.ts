import Database from 'better-sqlite3'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import { openStorage } from '../../lib/stores/index.js'
import { createPasswordHasher } from '../../lib/credentials/passwords.js'
import { createUser } from '../../lib/admin/users.js'
import { createClient } from '../../lib/admin/clients.js'
import { FAST_HASH, freePort } from '../support/helper.js'
import { spawnNode } from '../support/oauth.js'
import { denyEntry } from '../../lib/stores/deny-list.js'

/**
 * Crash safety on SQLite (WAL): `node dist/server.js` takes mixed writes over HTTP (password grants that
 * start refresh-token families, refresh rotations, revocations through /revoke, users created through
 * the admin API) and is SIGKILLed at a random moment. After each kill, before the restart, the file is
 * opened read-only: `PRAGMA integrity_check` must say ok, every write acknowledged with a 2xx must be
 * there, no refresh-token family may have two live tokens. After the restart (ready within 2 s of the
 * spawn) every acknowledged revocation must still hold over HTTP: the refresh token is invalid_grant, the
 * access token gets 401 from /users/me.
 */

export interface CrashOptions {
  cycles: number
  seed: number
  /** Concurrent HTTP writers. */
  concurrency?: number
  /** The load runs this long (ms, uniformly random in the range) before the SIGKILL. */
  killAfter?: [number, number]
  /**
   * A restart slower than this is a violation. `npm run test:crash` holds the 2 s target on a quiet machine;
   * inside `npm test` (which shares the machine with other test files) only a hung recovery counts.
   */
  readyLimitMs?: number
  log?: (line: string) => void
}

export interface CrashSummary {
  cycles: number
  seed: number
  writesAcknowledged: number
  writesFound: number
  byKind: Record<WriteKind, number>
  /** Requests cut by the kill: sent, no reply (their effect may or may not be there; both are fine). */
  inFlightAtKill: number
  /** Sign-ins the server shed (503 temporarily_unavailable: its hash queue or waiting bound full on a loaded machine): refused, not lost. */
  shed: number
  violations: string[]
  timeToReadyMs: number[]
  maxTimeToReadyMs: number
}

type WriteKind = 'issue' | 'rotate' | 'revoke_refresh' | 'revoke_access' | 'create_user' | 'redeem_code'

interface Ack {
  kind: WriteKind
  cycle: number
  /** issue/rotate: the refresh token handed out; revoke_refresh: the revoked one. */
  refreshToken?: string
  /** rotate: the refresh token spent. */
  spent?: string
  /** revoke_access: the revoked access token (and its jti). */
  accessToken?: string
  jti?: string
  username?: string
  /** redeem_code: the authorization code redeemed. */
  code?: string
}

const SERVER = fileURLToPath(new URL('../../server.js', import.meta.url))
export const READY_TARGET_MS = 2000
const PASSWORD = 'crash-test-password'
/** Pre-minted authorization codes (minted as lib/oauth/authorization-codes.ts stores them, but living long). */
const CODE_COUNT = 6000
const CODE_REDIRECT = 'https://crash.test/cb'
const CODE_VERIFIER = 'crash-verifier-' + 'v'.repeat(40)
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64url')
const sha256ascii = (text: string) => createHash('sha256').update(text, 'ascii').digest('base64url')

/** mulberry32: a small seeded PRNG, so a run can be repeated with its seed. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Reply { status: number, body: string }

/** One server process and a keep-alive agent of its own (dropped with it, so no dead socket is reused). */
class Target {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 64 })
  constructor (readonly port: number, readonly child: ChildProcess, readonly exited: Promise<void>) {}

  request (method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: this.port, method, path, agent: this.agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { text += chunk })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  form (path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    return this.request('POST', path, { 'content-type': 'application/x-www-form-urlencoded', ...headers }, new URLSearchParams(fields).toString())
  }
}

const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')

export async function runCrashHarness (options: CrashOptions): Promise<CrashSummary> {
  const { cycles, seed, concurrency = 8, killAfter = [80, 900], readyLimitMs = READY_TARGET_MS, log = () => {} } = options
  const random = prng(seed)
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'))
  const file = join(dir, 'gatehouse.db')
  const databaseUrl = `sqlite:${file}`

  // Fixtures, written before the first start: an admin, users to sign in as, one confidential client.
  const storage = await openStorage(databaseUrl)
  const hasher = await createPasswordHasher({ memoryCost: Number(FAST_HASH.ARGON2_MEMORY_KIB), timeCost: Number(FAST_HASH.ARGON2_TIME_COST), parallelism: 1 })
  await createUser(storage, hasher, 'root', PASSWORD, { scope: 'admin read' })
  const signInUsers = ['u0', 'u1', 'u2', 'u3']
  for (const u of signInUsers) await createUser(storage, hasher, u, PASSWORD, { scope: 'read' })
  const { secret } = await createClient(storage, 'crash-client', { isPublic: false, grantTypes: ['password', 'refresh_token'], scope: null, redirectUris: [] })
  // Codes for a second client (no refresh_token: a replay's revocation then touches nothing the other writes use).
  const web = await createClient(storage, 'crash-web', { isPublic: false, grantTypes: ['authorization_code'], scope: null, redirectUris: [CODE_REDIRECT] })
  const codeOwner = await storage.users.findByUsername('u0')
  const freshCodes: string[] = []
  const mintedAt = Math.floor(Date.now() / 1000)
  for (let i = 0; i < CODE_COUNT; i++) {
    const code = randomBytes(32).toString('base64url')
    freshCodes.push(code)
    await storage.codes.create({
      hash: sha256(code),
      clientId: 'crash-web',
      userId: codeOwner!.id,
      redirectUri: CODE_REDIRECT,
      codeChallenge: sha256ascii(CODE_VERIFIER),
      nonce: null,
      scope: 'read',
      authTime: mintedAt,
      sessionHash: null,
      credentialVersion: codeOwner!.credentialVersion,
      createdAt: mintedAt,
      expiresAt: mintedAt + 86_400,
      redeemedAt: null,
      issued: null
    })
  }
  await storage.close()
  const clientAuth = { authorization: basic('crash-client', secret!) }
  const webAuth = { authorization: basic('crash-web', web.secret!) }
  const redeem = (target: Target, code: string) =>
    target.form('/token', { grant_type: 'authorization_code', code, code_verifier: CODE_VERIFIER, redirect_uri: CODE_REDIRECT }, webAuth)

  const acks: Ack[] = []
  const violations: string[] = []
  const timeToReadyMs: number[] = []
  let inFlightAtKill = 0
  let shed = 0
  let userSerial = 0
  // Refresh tokens believed live (acknowledged, not spent or revoked by us), and access tokens we hold.
  const liveRefresh: string[] = []
  const accessTokens: string[] = []

  async function start (): Promise<Target> {
    const port = await freePort()
    const spawnedAt = performance.now()
    const child = spawnNode([SERVER], {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      // One issuer across restarts, as in any deployment (tokens from before a restart must still verify).
      ISSUER: 'http://gatehouse.crash.test',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      ...FAST_HASH
    }, ['ignore', 'ignore', 'pipe'])
    let stderr = ''
    child.stderr!.on('data', (d) => { stderr += d })
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const target = new Target(port, child, exited)
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited during start: ${stderr}`)
      const ok = await target.request('GET', '/ready', {}).then((r) => r.status === 200, () => false)
      if (ok) break
      if (performance.now() - spawnedAt > 60_000) { child.kill('SIGKILL'); throw new Error(`server not ready after 60 s: ${stderr}`) }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const ready = performance.now() - spawnedAt
    timeToReadyMs.push(ready)
    if (ready > readyLimitMs) violations.push(`ready ${ready.toFixed(0)} ms after the spawn (limit ${readyLimitMs} ms)`)
    return target
  }

  /** One write of a random kind; resolves when acknowledged (2xx read in full), or when it failed. */
  async function oneWrite (target: Target, cycle: number, adminToken: string, inFlight: { count: number }): Promise<void> {
    const roll = random()
    let done = false
    inFlight.count++
    try {
      if (roll >= 0.9 && freshCodes.length > 0) {
        const code = freshCodes.pop()!
        const res = await redeem(target, code)
        done = true
        if (res.status !== 200) throw new Error(`code redemption: ${res.status} ${res.body}`)
        acks.push({ kind: 'redeem_code', cycle, code })
      } else if (roll < 0.3 || liveRefresh.length === 0) {
        const res = await target.form('/token', { grant_type: 'password', username: pick(signInUsers), password: PASSWORD }, clientAuth)
        done = true
        // A sign-in shed under load is a refusal the client sees and retries, not an acknowledged write: not a violation.
        if (res.status === 503 && res.body.includes('"temporarily_unavailable"')) {
          shed++
          return
        }
        if (res.status !== 200) throw new Error(`password grant: ${res.status} ${res.body}`)
        const body = JSON.parse(res.body) as { access_token: string, refresh_token: string }
        acks.push({ kind: 'issue', cycle, refreshToken: body.refresh_token })
        liveRefresh.push(body.refresh_token)
        accessTokens.push(body.access_token)
      } else if (roll < 0.6) {
        const spent = liveRefresh.splice(Math.floor(random() * liveRefresh.length), 1)[0]!
        const res = await target.form('/token', { grant_type: 'refresh_token', refresh_token: spent }, clientAuth)
        done = true
        if (res.status !== 200) throw new Error(`refresh: ${res.status} ${res.body}`)
        const body = JSON.parse(res.body) as { access_token: string, refresh_token: string }
        acks.push({ kind: 'rotate', cycle, refreshToken: body.refresh_token, spent })
        liveRefresh.push(body.refresh_token)
        accessTokens.push(body.access_token)
      } else if (roll < 0.72) {
        const token = liveRefresh.splice(Math.floor(random() * liveRefresh.length), 1)[0]!
        const res = await target.form('/revoke', { token, token_type_hint: 'refresh_token' }, clientAuth)
        done = true
        if (res.status !== 200) throw new Error(`revoke refresh: ${res.status} ${res.body}`)
        acks.push({ kind: 'revoke_refresh', cycle, refreshToken: token })
      } else if (roll < 0.84 && accessTokens.length > 0) {
        const token = accessTokens.splice(Math.floor(random() * accessTokens.length), 1)[0]!
        const res = await target.form('/revoke', { token, token_type_hint: 'access_token' }, clientAuth)
        done = true
        if (res.status !== 200) throw new Error(`revoke access: ${res.status} ${res.body}`)
        const jti = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti
        acks.push({ kind: 'revoke_access', cycle, accessToken: token, jti })
      } else {
        const username = `c${cycle}-${userSerial++}`
        const res = await target.request('POST', '/admin/users', { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }, JSON.stringify({ username, password: PASSWORD }))
        done = true
        if (res.status !== 201) throw new Error(`create user: ${res.status} ${res.body}`)
        acks.push({ kind: 'create_user', cycle, username })
      }
    } catch (err) {
      // Sent but not answered: the kill cut it. Anything else (an answered request that failed) is a bug.
      if (done) violations.push(`cycle ${cycle}: ${(err as Error).message}`)
      else inFlightAtKill++
      throw err
    } finally {
      inFlight.count--
    }
  }

  /** What must hold in the file itself, opened read-only after the kill. */
  function checkFile (cycle: number): number {
    const db = new Database(file, { readonly: true, fileMustExist: true })
    let found = 0
    try {
      const integrity = db.pragma('integrity_check') as Array<{ integrity_check: string }>
      if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok') violations.push(`cycle ${cycle}: integrity_check: ${JSON.stringify(integrity).slice(0, 300)}`)
      const doubled = db.prepare(`SELECT rt.grant_id AS grant_id, COUNT(*) AS live FROM refresh_tokens rt JOIN grants g ON g.id = rt.grant_id
        WHERE g.revoked_at IS NULL AND rt.consumed_at IS NULL GROUP BY rt.grant_id HAVING COUNT(*) > 1`).all() as Array<{ grant_id: string, live: number }>
      for (const d of doubled) violations.push(`cycle ${cycle}: refresh-token family ${d.grant_id} has ${d.live} live tokens`)
      const token = db.prepare('SELECT rt.consumed_at AS consumed_at, g.revoked_at AS revoked_at FROM refresh_tokens rt JOIN grants g ON g.id = rt.grant_id WHERE rt.hash = ?')
      const user = db.prepare('SELECT 1 FROM users WHERE username = ?')
      const denied = db.prepare('SELECT 1 FROM revocations WHERE id = ?')
      const redeemed = db.prepare('SELECT redeemed_at FROM authorization_codes WHERE hash = ?')
      for (const ack of acks) {
        let ok = false
        switch (ack.kind) {
          case 'issue': ok = token.get(sha256(ack.refreshToken!)) !== undefined; break
          case 'rotate': {
            const next = token.get(sha256(ack.refreshToken!))
            const spent = token.get(sha256(ack.spent!)) as { consumed_at: number | null, revoked_at: number | null } | undefined
            ok = next !== undefined && spent !== undefined && (spent.consumed_at !== null || spent.revoked_at !== null)
            break
          }
          case 'revoke_refresh': ok = (token.get(sha256(ack.refreshToken!)) as { revoked_at: number | null } | undefined)?.revoked_at != null; break
          case 'revoke_access': ok = denied.get(denyEntry.token(ack.jti!)) !== undefined; break
          case 'create_user': ok = user.get(ack.username) !== undefined; break
          case 'redeem_code': ok = (redeemed.get(sha256(ack.code!)) as { redeemed_at: number | null } | undefined)?.redeemed_at != null; break
        }
        if (ok) found++
        else violations.push(`cycle ${cycle}: acknowledged ${ack.kind} (cycle ${ack.cycle}) is missing from the file`)
      }
    } finally {
      db.close()
    }
    return found
  }

  /** Over HTTP, after the restart: the revocations acknowledged in the last cycle still hold. */
  async function checkRevocations (target: Target, cycle: number): Promise<void> {
    for (const ack of acks.filter((a) => a.cycle === cycle - 1)) {
      if (ack.kind === 'revoke_refresh') {
        const res = await target.form('/token', { grant_type: 'refresh_token', refresh_token: ack.refreshToken! }, clientAuth)
        if (res.status !== 400 || !res.body.includes('"invalid_grant"')) violations.push(`cycle ${cycle}: a refresh token revoked in cycle ${ack.cycle} got ${res.status} ${res.body.slice(0, 100)}`)
      } else if (ack.kind === 'redeem_code') {
        // No code redeemed twice across a SIGKILL: the acknowledged redemption is in the file, so a second one loses.
        const res = await redeem(target, ack.code!)
        if (res.status !== 400 || !res.body.includes('"invalid_grant"')) violations.push(`cycle ${cycle}: a code redeemed in cycle ${ack.cycle} was redeemed again: ${res.status} ${res.body.slice(0, 100)}`)
      } else if (ack.kind === 'revoke_access') {
        const res = await target.request('GET', '/users/me', { authorization: `Bearer ${ack.accessToken}` })
        if (res.status !== 401) violations.push(`cycle ${cycle}: an access token revoked in cycle ${ack.cycle} got ${res.status} from /users/me`)
      }
    }
  }

  let writesFound = 0
  let target = await start()
  try {
    for (let cycle = 1; cycle <= cycles; cycle++) {
      await checkRevocations(target, cycle)
      const admin = await target.form('/token', { grant_type: 'password', username: 'root', password: PASSWORD, scope: 'admin' }, clientAuth)
      if (admin.status !== 200) throw new Error(`admin token: ${admin.status} ${admin.body}`)
      const adminToken = (JSON.parse(admin.body) as { access_token: string }).access_token
      const acksBefore = acks.length

      // Steady writers until the kill; each starts its next write as soon as the last is answered.
      let killed = false
      const inFlight = { count: 0 }
      const writers = Array.from({ length: concurrency }, async () => {
        // eslint-disable-next-line no-unmodified-loop-condition -- set by the kill timer, between awaits
        while (!killed) await oneWrite(target, cycle, adminToken, inFlight).catch(() => {})
      })
      const delay = killAfter[0] + random() * (killAfter[1] - killAfter[0])
      await new Promise((resolve) => setTimeout(resolve, delay))
      killed = true
      const cut = inFlight.count
      target.child.kill('SIGKILL')
      await target.exited
      await Promise.all(writers)
      target.agent.destroy()

      const found = checkFile(cycle)
      writesFound = found
      log(`cycle ${cycle}: killed after ${delay.toFixed(0)} ms with ${cut} requests in flight; ${acks.length - acksBefore} writes acknowledged this cycle, ${found}/${acks.length} found; this server was ready ${timeToReadyMs.at(-1)!.toFixed(0)} ms after its spawn; violations so far ${violations.length}`)
      target = await start()
    }
    await checkRevocations(target, cycles + 1)
  } finally {
    if (target.child.exitCode === null && target.child.signalCode === null) {
      target.child.kill('SIGTERM')
      await target.exited
    }
    target.agent.destroy()
    rmSync(dir, { recursive: true, force: true })
  }

  const byKind = { issue: 0, rotate: 0, revoke_refresh: 0, revoke_access: 0, create_user: 0, redeem_code: 0 }
  for (const ack of acks) byKind[ack.kind]++
  return {
    cycles,
    seed,
    writesAcknowledged: acks.length,
    writesFound,
    byKind,
    inFlightAtKill,
    shed,
    violations,
    timeToReadyMs,
    maxTimeToReadyMs: Math.max(...timeToReadyMs)
  }
}
