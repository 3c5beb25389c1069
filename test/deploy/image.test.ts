import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { freePort } from '../support/helper.js'

// The container image itself (issue 29), where this machine can run it: podman, and an image already built from the
// Dockerfile (building takes minutes, so CI does not: docs/deploy.md#container-image says how, from a debootstrap
// base). Skipped, saying why, otherwise. It runs the image as shipped: not root, the CLI inside it makes a user and a
// client in the /data volume, `serve` answers /health and /token, the image's HEALTHCHECK passes, and `podman stop`
// (SIGTERM, the image's STOPSIGNAL) ends it with exit code 0 well within the 20 s compose gives it.
//
// SQLite only, and not in test/postgres/list.ts: it builds no app in the test process; the same CLI and /token run on
// PostgreSQL in cli/ and routes/token/, and compose.yaml's PostgreSQL wiring is checked by test/deploy/static.test.ts.

const run = promisify(execFile)
const IMAGE = process.env.GATEHOUSE_TEST_IMAGE ?? 'localhost/gatehouse:test'
const PASSWORD = 'correct horse battery staple'
// This machine is itself a container: crun refuses its cgroups ("cgroups in hybrid mode not supported") and podman's
// default rlimits are above its own, so runc with cgroupfs, and the limits the machine allows. Host network: the
// test reaches the server on loopback.
const RUN = ['--cgroup-manager=cgroupfs', 'run', '--runtime=runc', '--network=host', '--ulimit=nofile=4096:4096', '--ulimit=nproc=4096:4096']
const PODMAN = ['--cgroup-manager=cgroupfs']

function why (): string | false {
  try { execFileSync('podman', ['--version'], { stdio: 'ignore' }) } catch { return 'podman is not installed (apt-get install podman)' }
  try { execFileSync('podman', ['image', 'exists', IMAGE], { stdio: 'ignore' }) } catch {
    return `no image ${IMAGE}: build it first (docs/deploy.md#container-image), or name one in GATEHOUSE_TEST_IMAGE`
  }
  // An image of another commit would test other code: only this commit's (its REVISION label), unless one is named.
  if (process.env.GATEHOUSE_TEST_IMAGE === undefined) {
    const head = gitHead()
    const revision = execFileSync('podman', ['image', 'inspect', '--format', '{{ index .Labels "org.opencontainers.image.revision" }}', IMAGE], { encoding: 'utf8' }).trim()
    if (head === undefined || revision !== head) return `${IMAGE} was built from ${revision || 'an unlabelled commit'}, not this one (${head ?? 'no git'}): build it with --build-arg REVISION=$(git rev-parse HEAD), or name an image in GATEHOUSE_TEST_IMAGE`
  }
  return false
}

function gitHead (): string | undefined {
  try { return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() } catch { return undefined }
}

const podman = (args: string[], input?: string) => new Promise<{ code: number, stdout: string, stderr: string }>((resolve) => {
  const child = execFile('podman', args, { timeout: 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
  })
  if (input !== undefined) child.stdin!.end(input)
})
/** A failed command's stderr, for the message (podman's stderr is noisy even when all is well: no systemd here). */
const err = (r: { code: number, stderr: string }) => r.code === 0 ? 'ok' : r.stderr

t.test('the image: non-root, CLI and server on the /data volume, /health, /token, HEALTHCHECK, SIGTERM', { skip: why() }, async (t) => {
  const id = randomBytes(4).toString('hex')
  const volume = `gh-test-${id}`
  const name = `gh-test-${id}`
  t.teardown(async () => {
    await run('podman', ['rm', '-f', '-t', '0', name]).catch(() => {})
    await run('podman', ['volume', 'rm', '-f', volume]).catch(() => {})
  })
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const env = ['-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1', '-e', `ISSUER=${url}`, '-e', 'LOG_LEVEL=info', '-v', `${volume}:/data`]

  const whoami = await podman([...RUN, '--rm', '--entrypoint', 'id', IMAGE])
  t.match(whoami.stdout, /^uid=10001\(gatehouse\) gid=10001\(gatehouse\)/, `runs as gatehouse, not root: ${err(whoami)}`)

  const cli = (args: string[], input?: string) => podman([...RUN, '--rm', '-i', ...env, IMAGE, ...args], input)
  const user = await cli(['users', 'add', 'alice', '--password-stdin', '--scope', 'read'], PASSWORD)
  t.equal(user.code, 0, `users add in the image: ${err(user)}`)
  const client = await cli(['clients', 'add', 'deploy-app', '--grant', 'password'])
  t.equal(client.code, 0, `clients add: ${err(client)}`)
  const { client_secret: secret } = JSON.parse(client.stdout) as { client_secret: string }

  const started = await podman([...RUN, '-d', '--name', name, ...env, IMAGE])
  t.equal(started.code, 0, `podman run -d: ${err(started)}`)
  const deadline = Date.now() + 60_000
  let up = false
  while (!up && Date.now() < deadline) {
    up = await fetch(`${url}/health`).then((r) => r.ok, () => false)
    if (!up) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.ok(up, up ? 'the container serves /health' : `the container does not serve /health: ${(await podman(['logs', name])).stderr}`)
  const ready = await fetch(`${url}/ready`).then((r) => r.json()) as { database?: string }
  t.equal(ready.database, 'sqlite', 'the database is the SQLite file in /data')

  const token = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`deploy-app:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: PASSWORD, scope: 'read' })
  })
  const body = await token.json() as { access_token?: string }
  t.equal(token.status, 200, token.status === 200 ? '/token: 200' : `/token: ${JSON.stringify(body)}`)
  t.ok(body.access_token, 'an access token, from the user and client the CLI made in the volume')

  const health = await podman([...PODMAN, 'healthcheck', 'run', name])
  t.equal(health.code, 0, `the image's HEALTHCHECK passes: ${health.stdout}${health.stderr}`)

  const before = Date.now()
  const stopped = await podman([...PODMAN, 'stop', '-t', '20', name])
  t.equal(stopped.code, 0, `podman stop: ${err(stopped)}`)
  t.ok(Date.now() - before < 15_000, 'SIGTERM ended it within the server\'s 15 s limit (no SIGKILL after 20 s)')
  const exit = await podman(['inspect', '--format', '{{.State.ExitCode}}', name])
  t.equal(exit.stdout.trim(), '0', 'and it exited 0: a drained shutdown')
  const logs = await podman(['logs', name])
  t.match(logs.stdout + logs.stderr, /shutting down: no new connections/, 'the server logged its drain')
})
