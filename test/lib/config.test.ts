import t from 'tap'
import { GATEHOUSE_BIN, SERVER_JS } from '../support/paths.js'
import { once } from 'node:events'
import { join } from 'node:path'
import { ConfigError, ConfigSchema, loadConfig } from '../../lib/config.js'
import { spawnNode } from '../support/oauth.js'
import { PROJECT_ROOT } from '../../lib/paths.js'

const SERVER = SERVER_JS

t.test('defaults are the ones in the CONTRACT table', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 3000)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.issuer, 'http://localhost:3000')
  t.equal(c.audience, 'http://localhost:3000', 'AUDIENCE defaults to the issuer')
  t.equal(c.databaseUrl, `sqlite:${join(PROJECT_ROOT, 'data', 'gatehouse.db')}`, 'the default database is in the project folder, not the working directory')
  t.equal(c.redisUrl, undefined)
  t.equal(c.accessTokenTtl, 900)
  t.equal(c.refreshTokenTtl, 1209600)
  t.equal(c.passwordGrant, true)
  t.equal(c.routesDir, undefined)
  t.equal(c.pluginsDir, undefined)
  t.equal(c.logLevel, 'info')
  t.same([c.argon2MemoryKib, c.argon2TimeCost, c.argon2Parallelism], [19456, 2, 1], 'OWASP minimum argon2id cost')
})

t.test('derived defaults follow the values they derive from', async (t) => {
  t.equal(loadConfig({ PORT: '8080' }).issuer, 'http://localhost:8080', 'ISSUER follows PORT')
  // ISSUER follows HOST: the address the server listens on, as a browser on this machine opens it (lib/http/listen-address.ts).
  const issuerFor = (HOST: string, PORT = '3000') => loadConfig({ HOST, PORT }).issuer
  t.equal(issuerFor('127.0.0.1'), 'http://localhost:3000', 'loopback: localhost (a WebAuthn RP ID may not be an IP address)')
  t.equal(issuerFor('127.0.0.2'), 'http://localhost:3000', 'any 127/8 address')
  t.equal(issuerFor('::1'), 'http://localhost:3000', 'IPv6 loopback')
  t.equal(issuerFor('localhost', '8080'), 'http://localhost:8080')
  t.equal(issuerFor('0.0.0.0'), 'http://localhost:3000', 'every IPv4 interface: localhost, which a browser can open (0.0.0.0 it cannot)')
  t.equal(issuerFor('::'), 'http://localhost:3000', 'every interface')
  t.equal(issuerFor('192.168.1.20', '8443'), 'http://192.168.1.20:8443', 'another address: as it is')
  t.equal(issuerFor('fd00::7'), 'http://[fd00::7]:3000', 'an IPv6 address in brackets')
  t.equal(loadConfig({ HOST: 'fd00::7' }).mailFrom, 'Gatehouse <no-reply@localhost>', 'and MAIL_FROM, which cannot name an IPv6 literal, a placeholder')
  t.equal(issuerFor('auth.internal'), 'http://auth.internal:3000', 'a host name')
  t.equal(loadConfig({ HOST: '192.168.1.20' }).audience, 'http://192.168.1.20:3000', 'AUDIENCE follows the derived ISSUER')
  t.equal(loadConfig({ HOST: '192.168.1.20', ISSUER: 'https://auth.example.com' }).issuer, 'https://auth.example.com', 'a set ISSUER wins over HOST')
  t.throws(() => loadConfig({ HOST: 'two words' }), /HOST="two words"/, 'a HOST that makes no URL is refused as HOST, not as an unset ISSUER')
  const c = loadConfig({ ISSUER: 'https://auth.example.com' })
  t.equal(c.issuer, 'https://auth.example.com')
  t.equal(c.audience, 'https://auth.example.com', 'AUDIENCE follows ISSUER')
  t.equal(loadConfig({ ISSUER: 'https://auth.example.com', AUDIENCE: 'https://api.example.com' }).audience, 'https://api.example.com')
})

t.test('values are read and converted', async (t) => {
  const c = loadConfig({
    PORT: '0',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u:p@db/gh',
    REDIS_URL: 'redis://cache:6379',
    ACCESS_TOKEN_TTL: '60',
    REFRESH_TOKEN_TTL: '3600',
    PASSWORD_GRANT: 'off',
    ROUTES_DIR: './r',
    PLUGINS_DIR: './p',
    LOG_LEVEL: 'debug'
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
    ['LOG_LEVEL', 'loud'],
    // Only the two signing algorithms: never HS256 or none, nor a lower-case spelling.
    ['ACCESS_TOKEN_ALG', 'HS256'],
    ['ACCESS_TOKEN_ALG', 'none'],
    ['ACCESS_TOKEN_ALG', 'rs256']
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

t.test('ACCESS_TOKEN_ALG: ES256 by default, RS256 when asked', async (t) => {
  t.equal(loadConfig({}).accessTokenAlg, 'ES256')
  t.equal(loadConfig({ ACCESS_TOKEN_ALG: 'RS256' }).accessTokenAlg, 'RS256')
})

t.test('the message says what the variable accepts', async (t) => {
  const message = (env: Record<string, string>) => { try { loadConfig(env) } catch (err) { return (err as Error).message } return '' }
  t.equal(message({ LOG_LEVEL: 'loud' }), 'invalid environment variable LOG_LEVEL="loud": must be one of fatal, error, warn, info, debug, trace, silent')
  t.equal(message({ PASSWORD_GRANT: 'true' }), 'invalid environment variable PASSWORD_GRANT="true": must be one of on, off')
  t.equal(message({ PORT: '70000' }), 'invalid environment variable PORT="70000": must be a whole number from 0 to 65535')
  t.equal(message({ ACCESS_TOKEN_TTL: '1e3' }), 'invalid environment variable ACCESS_TOKEN_TTL="1e3": must be a whole number')
  t.match(message({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL="mysql:\/\/x": expected sqlite:PATH, sqlite::memory: or postgres:\/\//)
})

t.test('every setting is declared once, in the schema: its variable, and a default unless it is optional or derived', async (t) => {
  const derived = ['databaseUrl', 'issuer', 'audience', 'mailFrom', 'mailDir']
  for (const [key, schema] of Object.entries(ConfigSchema.properties) as unknown as Array<[string, { env?: string, default?: unknown, [k: symbol]: unknown }]>) {
    t.match(schema.env, /^[A-Z][A-Z0-9_]+$/, `${key} names its environment variable`)
    const optional = Object.getOwnPropertySymbols(schema).some((s) => String(s) === 'Symbol(TypeBox.Optional)')
    if (!optional && !derived.includes(key)) t.not(schema.default, undefined, `${key} has its default in the schema`)
  }
  const c = loadConfig({})
  t.same(Object.keys(c).sort(), Object.keys(ConfigSchema.properties).filter((k) => (c as Record<string, unknown>)[k] !== undefined).sort(), 'the loaded config has exactly the schema\'s settings')
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
  for (const [name, value] of [['PORT', 'abc'], ['ACCESS_TOKEN_TTL', '0'], ['DATABASE_URL', 'mysql://x']] as const) {
    const { code, stderr } = await runServer({ [name]: value })
    t.equal(code, 1, `${name}=${value}: exit code 1`)
    t.match(stderr, new RegExp(`\\b${name}\\b`), `${name}=${value}: stderr names the variable`)
    t.equal(stderr.trim().split('\n').length, 1, `${name}=${value}: a one-line message, no stack trace`)
  }
})

t.test('unsafe key timing is refused naming both variables: the publish delay must outlast a reload and a cached JWKS', async (t) => {
  const message = (env: Record<string, string>) => { try { loadConfig(env) } catch (err) { return err instanceof ConfigError ? err.message : 'not a ConfigError' } return '' }
  const unsafe: Array<Record<string, string>> = [
    { KEY_PUBLISH_DELAY_SECONDS: '0' },
    { KEY_PUBLISH_DELAY_SECONDS: '12' },
    { KEY_PUBLISH_DELAY_SECONDS: '5', KEYS_REFRESH_SECONDS: '3' },
    { KEY_PUBLISH_DELAY_SECONDS: '30', KEYS_REFRESH_SECONDS: '30' }
  ]
  for (const env of unsafe) {
    const text = message(env)
    t.match(text, /^invalid environment: KEY_PUBLISH_DELAY_SECONDS=\d+ is shorter than KEYS_REFRESH_SECONDS=\d+ plus the JWKS cache lifetime/, JSON.stringify(env))
  }
  t.match(message({ KEY_PUBLISH_DELAY_SECONDS: '12' }), 'Set KEY_PUBLISH_DELAY_SECONDS to at least 13 or lower KEYS_REFRESH_SECONDS', 'says what would do')
  t.equal(message({ KEY_PUBLISH_DELAY_SECONDS: '13' }), '', 'the minimum with the default KEYS_REFRESH_SECONDS: 10 + 1 + 2')
  t.equal(message({ KEY_PUBLISH_DELAY_SECONDS: '4', KEYS_REFRESH_SECONDS: '1' }), '')
  t.equal(message({ KEY_PUBLISH_DELAY_SECONDS: '60', KEYS_REFRESH_SECONDS: '30' }), '')
  t.match(message({ KEY_PUBLISH_DELAY_SECONDS: '61' }), 'must be a whole number from 0 to 60', 'at most 60 s: servers sign with a new key within 60 s')
})

t.test('the server and the CLI refuse to start on unsafe key timing: exit 1, one line naming both variables', async (t) => {
  const { code, stderr } = await runServer({ KEY_PUBLISH_DELAY_SECONDS: '0' })
  t.equal(code, 1, 'the server exits 1')
  t.match(stderr, /KEY_PUBLISH_DELAY_SECONDS=0 is shorter than KEYS_REFRESH_SECONDS=10/)
  t.equal(stderr.trim().split('\n').length, 1, 'a one-line message')
  const cli = spawnNode([GATEHOUSE_BIN, 'keys', 'rotate'],
    { PATH: process.env.PATH ?? '', DATABASE_URL: 'sqlite::memory:', KEY_PUBLISH_DELAY_SECONDS: '20', KEYS_REFRESH_SECONDS: '30' }, ['ignore', 'pipe', 'pipe'])
  let err = ''
  cli.stderr!.on('data', (d) => { err += d })
  const [exit] = await once(cli, 'close') as [number | null]
  t.equal(exit, 1, 'the CLI exits 1')
  t.match(err, /KEY_PUBLISH_DELAY_SECONDS=20 is shorter than KEYS_REFRESH_SECONDS=30/)
})
