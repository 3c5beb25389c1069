import t from 'tap'
import { REPO_ROOT } from '../support/paths.js'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import { parse } from 'yaml'
import { addUser, buildListening } from '../support/helper.js'
import { spawnNode } from '../support/oauth.js'

// dist/test → the repository root.
const ROOT = REPO_ROOT
const OPENAPI = join(ROOT, 'openapi.yaml')
const CLIENT = join(ROOT, 'test', 'fixtures', 'openapi-client', 'client.ts')
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/** The generated types written beside a copy of the client, with a strict tsconfig; `tsc` then builds it into out/. */
async function prepare (dir: string, document: URL | string): Promise<void> {
  writeFileSync(join(dir, 'schema.d.ts'), astToString(await openapiTS(document)))
  copyFileSync(CLIENT, join(dir, 'client.ts'))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noImplicitOverride: true,
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      lib: ['ES2023'],
      types: ['node'],
      skipLibCheck: true,
      outDir: 'out',
      rootDir: '.'
    },
    include: ['*.ts']
  }))
}

/** What the client's run() returns (test/fixtures/openapi-client/client.ts, which is not part of this build). */
interface ClientResult {
  token: { token_type: string, scope?: string }
  me: { status: number, user?: Record<string, unknown> }
  refused: { status: number, error?: Record<string, unknown>, code?: string }
  users: { status: number, page?: Array<{ username: string }> }
  second: { status: number, page?: Array<{ username: string }> }
}

async function tsc (dir: string): Promise<{ code: number | null, output: string }> {
  const child = spawnNode([TSC, '-p', join(dir, 'tsconfig.json')], { PATH: process.env.PATH ?? '' })
  let output = ''
  child.stdout?.on('data', (chunk) => { output += chunk })
  child.stderr?.on('data', (chunk) => { output += chunk })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, output }
}

t.test('a client generated from openapi.yaml (openapi-typescript, openapi-fetch) type-checks under strict tsc and works against a listening server', async (t) => {
  const dir = t.testdir({})
  await prepare(dir, pathToFileURL(OPENAPI))
  const schema = readFileSync(join(dir, 'schema.d.ts'), 'utf8')
  for (const name of ['TokenResponse', 'OAuthError', 'BearerError', 'User', 'Client', 'IntrospectionResponse']) {
    t.match(schema, new RegExp(`\\n        ${name}: \\{`), `the generated types name ${name}`)
  }
  for (const operation of ['createToken', 'getCurrentUser', 'listUsers']) t.match(schema, new RegExp(`\\n    ${operation}: \\{`), `operation ${operation}`)
  const build = await tsc(dir)
  t.equal(build.code, 0, `strict tsc accepts the client:\n${build.output}`)

  const { app, url } = await buildListening(t)
  await addUser(app, 'alice', 'alice-pw', { scope: 'items:read', fullName: 'Alice Liddell' })
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  const { run } = await import(pathToFileURL(join(dir, 'out', 'client.js')).href) as { run: (baseUrl: string, credentials: Record<string, string>) => Promise<ClientResult> }
  const result = await run(url, { username: 'alice', password: 'alice-pw', adminUsername: 'root', adminPassword: 'root-pw' })

  t.equal(result.token.token_type, 'Bearer', 'password grant (form body): a token')
  t.equal(result.token.scope, 'items:read')
  t.equal(result.me.status, 200, 'GET /users/me: 200')
  t.match(result.me.user, { username: 'alice', full_name: 'Alice Liddell', disabled: false, scope: 'items:read' })
  t.equal(result.refused.status, 400, 'a wrong password: 400')
  t.equal(result.refused.code, 'invalid_grant', 'typed as OAuthError: invalid_grant')
  t.same(Object.keys(result.refused.error ?? {}).sort(), ['error', 'error_description'])
  t.equal(result.users.status, 200, 'GET /admin/users without limit or offset: 200')
  t.same(result.users.page?.map((u) => u.username), ['alice', 'root'], 'the whole first page')
  t.equal(result.second.status, 200)
  t.same(result.second.page?.map((u) => u.username), ['root'], 'limit=1&offset=1: the second user')
})

t.test('the type-check guards the contract: required paging or anonymous error schemas would not compile', async (t) => {
  // The document as it was before issue 13 in two respects: limit/offset required, error schemas named def-N.
  const doc = parse(readFileSync(OPENAPI, 'utf8'))
  for (const p of doc.paths['/admin/users'].get.parameters) p.required = true
  const text = JSON.stringify(doc).replaceAll('#/components/schemas/OAuthError', '#/components/schemas/def-0')
  const older = JSON.parse(text)
  older.components.schemas['def-0'] = older.components.schemas.OAuthError
  delete older.components.schemas.OAuthError
  const dir = t.testdir({})
  await prepare(dir, older)
  const build = await tsc(dir)
  t.not(build.code, 0, 'strict tsc refuses the client')
  t.comment(build.output)
  t.match(build.output, /client\.ts\(\d+,\d+\): error TS\d+: .*OAuthError/, 'OAuthError is not a named type')
  t.match(build.output, /client\.ts\(\d+,\d+\): error TS2345: .*admin\/users|client\.ts\(\d+,\d+\): error TS\d+: .*query/, 'GET /admin/users needs its query')
})
