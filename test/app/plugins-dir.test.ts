import { EXAMPLES, REPO_ROOT } from '../support/paths.js'
import t, { type Test } from 'tap'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addUser, build } from '../support/helper.js'
import { bearer, passwordGrant } from '../support/oauth.js'
import { buildLogged } from '../support/security.js'

// dist/test → the repository root and the compiled examples.
const ROOT = REPO_ROOT
const AUDIT_PLUGIN = join(EXAMPLES, 'audit-plugin')

function tempDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ext-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('PLUGINS_DIR: the example audit plugin sees every authenticated request', async (t) => {
  const { app, lines } = await buildLogged(t, { PLUGINS_DIR: AUDIT_PLUGIN, ACCESS_LOG: 'off', LOG_LEVEL: 'info' })
  await addUser(app, 'alice', 'alice-pw', { scope: 'read' })
  const token = await passwordGrant(t, app, 'alice', 'alice-pw')
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(token.access_token) })).statusCode, 200)
  const audit = lines().map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.msg === 'audit')
  t.equal(audit.length, 1, 'one audit line, for the one authenticated request')
  t.match(audit[0], { route: '/users/me', status: 200, client_id: 'default' })
})

t.test('a plugin outside the repository imports fastify-plugin from gatehouse/extension', async (t) => {
  // What `npm install` of this repository as a dependency gives an extension project: node_modules/gatehouse.
  const project = tempDir(t)
  mkdirSync(join(project, 'node_modules'))
  symlinkSync(ROOT, join(project, 'node_modules', 'gatehouse'), 'dir')
  mkdirSync(join(project, 'plugins'))
  writeFileSync(join(project, 'plugins', 'greeting.mjs'), `
    import { fp, invalidToken } from 'gatehouse/extension'
    export default fp(async (fastify) => {
      fastify.decorate('greeting', 'hello from outside')
      fastify.get('/outside', { preHandler: fastify.authenticate }, async (request) => {
        if (!request.auth.user) throw invalidToken('a user token is needed')
        return { greeting: fastify.greeting, username: request.auth.user.username }
      })
    }, { name: 'greeting', dependencies: ['authenticate'] })
  `)
  const app = await build(t, { PLUGINS_DIR: join(project, 'plugins') })
  await addUser(app, 'alice', 'alice-pw')
  const token = await passwordGrant(t, app, 'alice', 'alice-pw')
  const res = await app.inject({ method: 'GET', url: '/outside', headers: bearer(token.access_token) })
  t.same(res.json(), { greeting: 'hello from outside', username: 'alice' })
  t.equal((await app.inject({ method: 'GET', url: '/outside' })).statusCode, 401, 'Gatehouse\'s errors, thrown from outside, in the RFC 6750 shape')
})

t.test('a plain JavaScript plugin with no dependencies at all (skip-override, as fastify-plugin sets it)', async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'plugins'))
  mkdirSync(join(dir, 'routes'))
  writeFileSync(join(dir, 'plugins', 'motd.mjs'), `
    async function motd (fastify) { fastify.decorate('motd', 'no imports needed') }
    motd[Symbol.for('skip-override')] = true
    export default motd
  `)
  writeFileSync(join(dir, 'routes', 'motd.mjs'), 'export default async function (fastify) { fastify.get(\'/motd\', async () => ({ motd: fastify.motd })) }\n')
  const app = await build(t, { PLUGINS_DIR: join(dir, 'plugins'), ROUTES_DIR: join(dir, 'routes') })
  t.same((await app.inject({ method: 'GET', url: '/motd' })).json(), { motd: 'no imports needed' }, 'the decoration reaches a route of ROUTES_DIR')
})
