import t from 'tap'
import { createTestSchema } from '../support/pg-schema.js'
import { formPost, runCli, startServer, stopServer, type ServerProcess } from '../support/server-process.js'
import { freePort } from '../support/helper.js'
import { startTcpProxy } from '../support/tcp-proxy.js'
import { dpopKey } from '../support/dpop.js'

const redisUrl = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379')

/** What an instance logs when it stops sharing DPoP proofs (lib/oauth/dpop-replay.ts RedisProofReplay). */
const FALLBACK = 'redis unavailable: DPoP proofs are remembered by this instance alone'

/**
 * RFC 9449 §11.1 across instances (CONTRACT.md, "Sender-constrained tokens": jti replay shared through Redis when
 * set): two Gatehouse processes on one PostgreSQL schema and one Redis, the same proof sent to both at the same
 * moment, many times: one token each time. Redis is reached through a TCP proxy, so the test can take it away
 * without touching Redis: each instance then remembers proofs in its own memory, says so once, and still refuses a
 * proof replayed to it.
 */
t.test('two instances sharing Redis accept a DPoP proof once; without Redis each still refuses its own replays', async (t) => {
  const { url: DATABASE_URL, drop } = await createTestSchema()
  const proxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) })
  const ISSUER = `http://127.0.0.1:${await freePort()}` // one issuer for both, as a load balancer would present
  // REDIS_TIMEOUT_MS: this test is about sharing; on a loaded machine the default 50 ms timeout would trip the
  // circuit breaker and each instance would remember alone (test/lib/oauth/dpop-replay.test.ts tests the breaker).
  const env = {
    DATABASE_URL,
    ISSUER,
    REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
    REDIS_PREFIX: `dpop-scale-${process.pid}-${Date.now()}:`,
    REDIS_TIMEOUT_MS: '1000'
  }
  const servers: ServerProcess[] = []
  t.teardown(async () => {
    await Promise.all(servers.map(stopServer))
    await proxy.stop().catch(() => {})
    await drop()
  })
  const { client_secret: secret } = JSON.parse(await runCli(['clients', 'add', 'svc', '--grant', 'client_credentials'], env)) as { client_secret: string }
  servers.push(...await Promise.all([startServer(env), startServer(env)]))
  const [a, b] = servers as [ServerProcess, ServerProcess]

  const authorization = `Basic ${Buffer.from(`svc:${secret}`).toString('base64')}`
  const key = await dpopKey('ES256', { url: `${ISSUER}/token` })
  const tokenAt = (server: ServerProcess, proof: string) => formPost(`${server.url}/token`, { grant_type: 'client_credentials' }, { authorization, dpop: proof })
  const outcome = async (res: Response) => res.status === 200 ? 'token' : `${res.status} ${(await res.json() as { error: string }).error}`

  for (let round = 0; round < 20; round++) {
    const proof = await key.proof()
    const outcomes = await Promise.all([a, b].map(async (server) => outcome(await tokenAt(server, proof))))
    t.same(outcomes.slice().sort(), ['400 invalid_dpop_proof', 'token'], `round ${round}: one token, the other instance refuses (${outcomes.join(', ')})`)
  }
  const shared = await key.proof()
  t.equal(await outcome(await tokenAt(b, shared)), 'token')
  t.equal(await outcome(await tokenAt(a, shared)), '400 invalid_dpop_proof', 'a proof used at B is refused later at A')
  t.notOk(a.output().includes(FALLBACK) || b.output().includes(FALLBACK), 'no fallback while Redis answers')

  // Redis goes away: every instance remembers proofs in its own memory.
  await proxy.stop()
  for (const [name, server] of [['A', a], ['B', b]] as const) {
    for (let i = 0; i < 5; i++) {
      const proof = await key.proof()
      t.equal(await outcome(await tokenAt(server, proof)), 'token', `Redis away: ${name} still issues (proof ${i})`)
      t.equal(await outcome(await tokenAt(server, proof)), '400 invalid_dpop_proof', `and refuses the same proof replayed to ${name}`)
    }
    const said = server.output().split('\n').filter((line) => line.includes(FALLBACK))
    t.equal(said.length, 1, `${name} says once that it remembers proofs alone`)
    t.match(said[0], /"level":40/, 'at warn')
  }
})
