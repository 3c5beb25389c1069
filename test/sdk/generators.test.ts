import t, { type Test } from 'tap'
import { REPO_ROOT } from '../support/paths.js'
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { addUser, buildListening } from '../support/helper.js'
import { spawnNode } from '../support/oauth.js'

// SDKs from the three generators docs/extending.md names, each generated from openapi.yaml, compiled with a small
// program of test/fixtures/sdk under strict tsc, and run against a listening Gatehouse: /token, then listUsers.
const OPENAPI = join(REPO_ROOT, 'openapi.yaml')
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'sdk')
const BIN = {
  tsc: join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
  openapiTypescript: join(REPO_ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
  heyApi: join(REPO_ROOT, 'node_modules', '@hey-api', 'openapi-ts', 'bin', 'run.js'),
  orval: join(REPO_ROOT, 'node_modules', 'orval', 'dist', 'bin', 'orval.js')
}
const PROGRAMS = ['openapi-fetch', 'hey-api', 'orval'] as const

interface Run { code: number | null, output: string, stdout: string }

function run (args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const child = spawnNode(args, { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, ['ignore', 'pipe', 'pipe'], cwd)
  let output = ''
  let stdout = ''
  child.stdout?.on('data', (chunk) => { output += chunk; stdout += chunk })
  child.stderr?.on('data', (chunk) => { output += chunk })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output, stdout })))
}

/** The three SDKs of `document` in `dir` (the commands docs/extending.md gives), the programs beside them, a strict tsconfig. */
async function generate (t: Test, dir: string, document: string): Promise<void> {
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.ts') || f.endsWith('.cjs'))) copyFileSync(join(FIXTURES, file), join(dir, file))
  const runs = await Promise.all([
    run([BIN.openapiTypescript, document, '-o', 'openapi-typescript/schema.d.ts'], dir),
    run([BIN.heyApi, '-i', document, '-o', 'hey-api'], dir),
    run([BIN.orval, '--config', './orval.config.cjs'], dir, { ORVAL_INPUT: document })
  ])
  for (const [i, { code, output }] of runs.entries()) t.equal(code, 0, `generator ${i + 1} ran:\n${output}`)
  // CommonJS: orval imports its mutator without a file extension, which Node's ESM resolution refuses.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noUncheckedIndexedAccess: true,
      module: 'CommonJS',
      moduleResolution: 'Node10',
      target: 'ES2022',
      lib: ['ES2023', 'DOM'],
      types: ['node'],
      skipLibCheck: true,
      outDir: 'out',
      rootDir: '.'
    },
    include: ['*.ts', 'openapi-typescript/*.ts', 'hey-api/**/*.ts', 'orval/*.ts']
  }))
}

const tsc = (dir: string) => run([BIN.tsc, '-p', join(dir, 'tsconfig.json')], dir)

t.test('SDKs from openapi-typescript/openapi-fetch, @hey-api/openapi-ts and orval compile under strict tsc and get a token and a page of users', async (t) => {
  const dir = t.testdir({})
  await generate(t, dir, OPENAPI)
  const heyTypes = readFileSync(join(dir, 'hey-api', 'types.gen.ts'), 'utf8')
  t.match(heyTypes, /baseUrl: 'http:\/\/localhost:3000'/, 'hey-api: the base URL is the document\'s server (the issuer), not its file name')
  const orval = readFileSync(join(dir, 'orval', 'gatehouse.ts'), 'utf8')
  t.match(orval, /export type listUsersResponse200 = \{\n\s+data: User\[\]/, 'orval: listUsers answers the named User')
  t.notMatch(orval, /ListUsers200Item/, 'orval: no anonymous type named after the status')
  const build = await tsc(dir)
  t.equal(build.code, 0, `strict tsc accepts the three SDKs and their programs:\n${build.output}`)

  const { app, url } = await buildListening(t)
  await addUser(app, 'root', 'root-pw', { scope: 'admin' })
  await addUser(app, 'alice', 'alice-pw')
  for (const program of PROGRAMS) {
    const result = await run([join(dir, 'out', `${program}.js`), url], dir, { GATEHOUSE_USERNAME: 'root', GATEHOUSE_PASSWORD: 'root-pw' })
    t.equal(result.code, 0, `${program}: ran\n${result.output}`)
    const answer = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}')
    t.same(answer, {
      token_type: 'Bearer',
      scope: 'admin',
      users: { status: 200, usernames: ['alice', 'root'] },
      refused: { status: 400, error: 'invalid_grant' }
    }, `${program}: a token at /token, listUsers, and a wrong password's OAuthError`)
  }
})

t.test('the check can fail: without servers hey-api has no base URL; an inline schema is an anonymous type to orval', async (t) => {
  const doc = parse(readFileSync(OPENAPI, 'utf8'))
  delete doc.servers
  doc.paths['/admin/users'].get.responses['200'].content['application/json'].schema.items = doc.components.schemas.User
  const dir = t.testdir({})
  const document = join(dir, 'older.yaml')
  writeFileSync(document, stringify(doc))
  await generate(t, dir, document)
  t.match(readFileSync(join(dir, 'hey-api', 'types.gen.ts'), 'utf8'), /baseUrl: `\$\{string\}:\/\/\$\{string\}` \| \(string & \{\}\);/, 'hey-api: no default base URL (the review saw its input\'s name, openapi.yaml, there)')
  t.match(readFileSync(join(dir, 'orval', 'gatehouse.ts'), 'utf8'), /export type ListUsers200Item = \{/, 'orval: ListUsers200Item')
})
