import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { request } from 'node:http'
import { startServer, stopServer } from '../support/server-process.js'
import { tempDatabaseUrl } from '../support/helper.js'

/**
 * Issue 10, defect 3: memory is bounded whatever requests carry. 50,000 requests with random client ids
 * (client_credentials, revocation and introspection attempts: each id is looked up and its miss cached) and
 * random bearer tokens (opaque and JWT-shaped with random `kid`s) against a server in a child process: its
 * resident set grows by less than 30 MB.
 */
const rssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
  return Number(line?.replace(/\D+/g, '')) / 1024
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const randomId = (bytes = 12) => randomBytes(bytes).toString('base64url')

function send (agent: Agent, port: number, i: number): Promise<number> {
  const kind = i % 5
  let path = '/token'
  let method = 'POST'
  let body = ''
  const headers: Record<string, string> = {}
  if (kind < 3) {
    // Client ids of every length: Basic credentials carry any (4,000 characters here), a form at most 128.
    const id = randomId([3000, 96, 3000][kind])
    headers['content-type'] = 'application/x-www-form-urlencoded'
    path = ['/token', '/revoke', '/introspect'][kind]!
    if (kind === 1) {
      body = `token=${randomId()}&client_id=${id}&client_secret=${randomId()}`
    } else {
      headers.authorization = 'Basic ' + Buffer.from(`${id}:${randomId()}`).toString('base64')
      body = kind === 0 ? 'grant_type=client_credentials' : `token=${randomId()}`
    }
  } else {
    method = 'GET'
    path = '/users/me'
    headers.authorization = 'Bearer ' + (kind === 3
      ? randomBytes(24).toString('base64url')
      : `${b64({ alg: 'ES256', typ: 'at+jwt', kid: randomId() })}.${b64({ sub: randomId(), exp: 4102444800 })}.${randomBytes(64).toString('base64url')}`)
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function drive (port: number, from: number, count: number, statuses: Map<number, number>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  let next = from
  const end = from + count
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < end) {
      const status = await send(agent, port, next++)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
  }))
  agent.destroy()
}

t.test('50,000 requests with random client ids and bearer tokens: RSS grows by less than 30 MB', async (t) => {
  const server = await startServer({ DATABASE_URL: tempDatabaseUrl(t) })
  t.teardown(() => stopServer(server))
  const pid = server.child.pid!
  const port = Number(new URL(server.url).port)
  const statuses = new Map<number, number>()
  await drive(port, 0, 5_000, statuses) // warm-up: JIT, pools, the heap's working size
  const before = rssMb(pid)
  await drive(port, 5_000, 50_000, statuses)
  const after = rssMb(pid)
  t.comment(`RSS ${before.toFixed(1)} MB → ${after.toFixed(1)} MB; replies ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.notOk(statuses.has(500), 'no 500')
  t.ok(after - before < 30, `RSS grew by ${(after - before).toFixed(1)} MB (< 30 MB)`)
})
