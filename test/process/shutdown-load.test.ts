import t from 'tap'
import { Agent, request as httpRequest } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStorage } from '../../lib/stores/index.js'
import { createPasswordHasher } from '../../lib/credentials/passwords.js'
import { createUser } from '../../lib/admin/users.js'
import { createClient } from '../../lib/admin/clients.js'
import { FAST_HASH } from '../support/helper.js'
import { formPost, startServer } from '../support/server-process.js'

/**
 * Graceful shutdown under steady load (test/process/server.test.ts covers a few slow requests in flight): 20
 * keep-alive clients loop on /users/me and client_credentials grants, and SIGTERM arrives mid-load.
 * Every request must end in one of two ways: its full 2xx reply, or a connection that was refused or
 * closed before the request was written (nothing reached the server; a client may retry it). A request
 * written and then cut, or answered with anything but 2xx (a 503 from a closing server included), is a
 * failure. The process must exit 0 within a few seconds.
 */

const CLIENTS = 20
const LOAD_BEFORE_SIGTERM_MS = 1500

type Outcome =
  | { kind: 'ok', status: number }
  | { kind: 'not-sent', code: string } // refused, or closed before the request was written
  | { kind: 'failed', detail: string }

function send (port: number, agent: Agent, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let written = false
    let responded = false
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      responded = true
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => {
        if (!res.complete) resolve({ kind: 'failed', detail: `${method} ${path}: reply cut after ${text.length} bytes` })
        else if (res.statusCode! >= 200 && res.statusCode! < 300) {
          try { JSON.parse(text); resolve({ kind: 'ok', status: res.statusCode! }) } catch { resolve({ kind: 'failed', detail: `${method} ${path}: ${res.statusCode} with a body that is not JSON` }) }
        } else resolve({ kind: 'failed', detail: `${method} ${path}: ${res.statusCode} ${text.slice(0, 120)}` })
      })
      res.on('error', (err) => resolve({ kind: 'failed', detail: `${method} ${path}: reply error ${(err as NodeJS.ErrnoException).code ?? err.message}` }))
    })
    // 'finish': the whole request has been handed to the socket. An error before that point means the
    // server cannot have read it (refused, or the connection was gone); after it, the request was sent.
    req.on('finish', () => { written = true })
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (responded) return
      if (!written || err.code === 'ECONNREFUSED') resolve({ kind: 'not-sent', code: err.code ?? err.message })
      else resolve({ kind: 'failed', detail: `${method} ${path}: ${err.code ?? err.message} after the request was written${req.reusedSocket ? ' (on a reused keep-alive connection)' : ''}` })
    })
    req.end(body)
  })
}

t.test('SIGTERM under steady keep-alive load: zero failed requests, exit 0 within a few seconds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-shutdown-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const DATABASE_URL = `sqlite:${join(dir, 'gatehouse.db')}`
  const storage = await openStorage(DATABASE_URL)
  const hasher = await createPasswordHasher({ memoryCost: Number(FAST_HASH.ARGON2_MEMORY_KIB), timeCost: 1, parallelism: 1 })
  await createUser(storage, hasher, 'alice', 'alice-password', { scope: 'read' })
  const { secret } = await createClient(storage, 'svc', { isPublic: false, grantTypes: ['client_credentials'], scope: null, redirectUris: [] })
  await storage.close()

  const server = await startServer({ DATABASE_URL, LOG_LEVEL: 'info', ACCESS_LOG: 'on' })
  t.teardown(() => { if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL') })
  const port = Number(new URL(server.url).port)
  const signIn = await formPost(`${server.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password' })
  t.equal(signIn.status, 200, 'a token for alice')
  const { access_token: accessToken } = await signIn.json() as { access_token: string }
  const bearer = { authorization: `Bearer ${accessToken}` }
  const basic = { authorization: 'Basic ' + Buffer.from(`svc:${encodeURIComponent(secret!)}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' }

  let sigtermAt = Infinity
  const outcomes: Array<Outcome & { at: number }> = []
  const agents: Agent[] = []
  // Each client loops until the server refuses it after the SIGTERM (or 10 s pass, which would be a bug).
  const clients = Array.from({ length: CLIENTS }, async (_, i) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    agents.push(agent)
    for (let n = 0; ; n++) {
      const outcome = n % 2 === i % 2
        ? await send(port, agent, 'GET', '/users/me', bearer)
        : await send(port, agent, 'POST', '/token', basic, 'grant_type=client_credentials')
      outcomes.push({ ...outcome, at: performance.now() })
      if (outcome.kind !== 'ok' && performance.now() > sigtermAt) break
      if (performance.now() - sigtermAt > 10_000) break
    }
  })

  // At least LOAD_BEFORE_SIGTERM_MS of load and more than 200 requests: a machine busy with other test files
  // served ~180 in that time, and the SIGTERM then came before the load was steady.
  await new Promise((resolve) => setTimeout(resolve, LOAD_BEFORE_SIGTERM_MS))
  const loadUntil = performance.now() + 20_000
  while (outcomes.length <= 200 && performance.now() < loadUntil) await new Promise((resolve) => setTimeout(resolve, 20))
  const beforeSigterm = outcomes.length
  sigtermAt = performance.now()
  server.child.kill('SIGTERM')
  const exitCode = await server.exited
  const exitMs = performance.now() - sigtermAt
  await Promise.all(clients)
  for (const agent of agents) agent.destroy()

  const ok = outcomes.filter((o) => o.kind === 'ok')
  const afterSigterm = ok.filter((o) => o.at > sigtermAt)
  const notSent = outcomes.filter((o) => o.kind === 'not-sent') as Array<{ code: string }>
  const failed = outcomes.filter((o) => o.kind === 'failed') as Array<{ detail: string }>
  t.comment(`${outcomes.length} requests: ${ok.length} full 2xx replies (${afterSigterm.length} completed after the SIGTERM), ${notSent.length} not sent (${[...new Set(notSent.map((o) => o.code))].join(', ')}), ${failed.length} failed; ${beforeSigterm} done before the SIGTERM; exit ${exitCode} after ${exitMs.toFixed(0)} ms`)
  t.ok(beforeSigterm > 200, `steady load before the SIGTERM (${beforeSigterm} requests)`)
  t.same(failed.map((o) => o.detail), [], 'no request was cut or refused after it was sent')
  t.equal(exitCode, 0, 'the process exits 0')
  t.ok(exitMs < 5000, `it exits within 5 s (${exitMs.toFixed(0)} ms)`)
  t.equal(notSent.length, CLIENTS, 'each client ends on a refused connection, once')

  // The server's side: every request it received, it answered with 2xx (nothing was dropped after reading).
  const lines = server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string, reqId?: string, res?: { statusCode: number } })
  const incoming = new Set(lines.filter((l) => l.msg === 'incoming request').map((l) => l.reqId))
  const completed = lines.filter((l) => l.msg === 'request completed')
  t.equal(completed.length, incoming.size, 'every request the server read was completed')
  t.same(completed.filter((l) => (l.res?.statusCode ?? 0) >= 300).map((l) => l.res?.statusCode), [], 'all with 2xx')
  t.equal(incoming.size, ok.length + 2, 'the server read exactly the requests that got their reply (+ /health and the sign-in)')
  t.notOk(lines.some((l) => /"level":(50|60)/.test(JSON.stringify(l))), 'no error logged')
})
