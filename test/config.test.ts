import t from 'tap'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../lib/config.js'
import { spawnNode } from './support.js'

const SERVER = join(import.meta.dirname, '..', 'server.js')

t.test('defaults are the ones in the CONTRACT table', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 3000)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.issuer, 'http://localhost:3000')
  t.equal(c.audience, 'http://localhost:3000', 'AUDIENCE defaults to the issuer')
  t.equal(c.databaseUrl, 'sqlite:./data/gatehouse.db')
  t.equal(c.redisUrl, undefined)
  t.equal(c.accessTokenTtl, 900)
  t.equal(c.refreshTokenTtl, 1209600)
  t.equal(c.passwordGrant, true)
  t.equal(c.routesDir, undefined)
  t.equal(c.pluginsDir, undefined)
  t.equal(c.logLevel, 'info')
  t.same(c.argon2, { memoryCost: 19456, timeCost: 2, parallelism: 1 }, 'OWASP minimum argon2id cost')
})

t.test('derived defaults follow the values they derive from', async (t) => {
  t.equal(loadConfig({ PORT: '8080' }).issuer, 'http://localhost:8080', 'ISSUER follows PORT')
  const c = loadConfig({ ISSUER: 'https://auth.example.com' })
  t.equal(c.issuer, 'https://auth.example.com')
  t.equal(c.audience, 'https://auth.example.com', 'AUDIENCE follows ISSUER')
  t.equal(loadConfig({ ISSUER: 'https://auth.example.com', AUDIENCE: 'https://api.example.com' }).audience, 'https://api.example.com')
})

t.test('values are read and converted', async (t) => {
  const c = loadConfig({
    PORT: '0', HOST: '0.0.0.0', DATABASE_URL: 'postgres://u:p@db/gh', REDIS_URL: 'redis://cache:6379',
    ACCESS_TOKEN_TTL: '60', REFRESH_TOKEN_TTL: '3600', PASSWORD_GRANT: 'off', ROUTES_DIR: './r', PLUGINS_DIR: './p', LOG_LEVEL: 'debug'
  })
  t.equal(c.port, 0)
  t.equal(c.host, '0.0.0.0')
  t.equal(c.databaseUrl, 'postgres://u:p@db/gh')
  t.equal(c.redisUrl, 'redis://cache:6379')
  t.equal(c.accessTokenTtl, 60)
  t.equal(c.refreshTokenTtl, 3600)
  t.equal(c.passwordGrant, false)
  t.equal(c.routesDir, './r')
  t.equal(c.pluginsDir, './p')
  t.equal(c.logLevel, 'debug')
  t.equal(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).databaseUrl, 'sqlite::memory:')
  t.equal(loadConfig({ PORT: '' }).port, 3000, 'an empty variable counts as unset')
})

t.test('a bad value throws ConfigError naming the variable', async (t) => {
  const bad: Array<[string, string]> = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '3.5'],
    ['PORT', 'true'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['ACCESS_TOKEN_TTL', '-5'],
    ['ACCESS_TOKEN_TTL', '900s'],
    // "1e3" must not silently become 1 second (nor 1000); "0x10" must not become 16.
    ['ACCESS_TOKEN_TTL', '1e3'],
    ['ACCESS_TOKEN_TTL', '0x10'],
    ['ACCESS_TOKEN_TTL', '15.9'],
    ['REFRESH_TOKEN_TTL', 'forever'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', './data/db'],
    ['PASSWORD_GRANT', 'maybe'],
    ['PASSWORD_GRANT', 'true'],
    ['ISSUER', 'https://auth.example.com/?tenant=1'],
    ['ISSUER', 'https://auth.example.com/#frag'],
    ['ISSUER', 'auth.example.com'],
    ['REDIS_URL', 'http://cache'],
    ['LOG_LEVEL', 'loud']
  ]
  for (const [name, value] of bad) {
    let thrown: unknown
    try {
      loadConfig({ [name]: value })
    } catch (err) {
      thrown = err
    }
    t.ok(thrown instanceof ConfigError, `${name}=${value} is refused with a ConfigError`)
    t.match((thrown as Error | undefined)?.message, new RegExp(`\\b${name}\\b`), `the message for ${name}=${value} names the variable`)
  }
})

function runServer (env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    // Only what the server needs: no inherited configuration can make it start.
    const child = spawnNode([SERVER], { PATH: process.env.PATH ?? '', DATABASE_URL: 'sqlite::memory:', ...env }, ['ignore', 'pipe', 'pipe'])
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => { stdout += d })
    child.stderr!.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the server did not exit on a bad configuration')) }, 15_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

t.test('the server refuses to start on a bad value: exit 1, message naming the variable', async (t) => {
  for (const [name, value] of [['PORT', 'abc'], ['ACCESS_TOKEN_TTL', '0'], ['DATABASE_URL', 'mysql://x']]) {
    const { code, stderr } = await runServer({ [name]: value })
    t.equal(code, 1, `${name}=${value}: exit code 1`)
    t.match(stderr, new RegExp(`\\b${name}\\b`), `${name}=${value}: stderr names the variable`)
    t.equal(stderr.trim().split('\n').length, 1, `${name}=${value}: a one-line message, no stack trace`)
  }
})
