import { GATEHOUSE_BIN, SERVER_JS } from './paths.js'
import type { ChildProcess } from 'node:child_process'
import { freePort, FAST_HASH } from './helper.js'
import { spawnNode } from './oauth.js'

const serverJs = SERVER_JS
const cliJs = GATEHOUSE_BIN

export interface ServerProcess {
  url: string
  child: ChildProcess
  output: () => string
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string | null>
}

/** A child's environment: ours, cheap hashing, quiet logs, and the test's own settings. */
export function childEnv (env: Record<string, string>): Record<string, string> {
  return { ...process.env as Record<string, string>, ...FAST_HASH, LOG_LEVEL: 'warn', ...env }
}

/**
 * Starts `node dist/server.js` on a free port and waits until /health answers (at most `startMs`: a start takes
 * about a second on a quiet machine, but over 10 s has been seen with CI's test files running four at once on two
 * cores; these tests measure what the server does, not how fast it starts).
 */
export async function startServer (env: Record<string, string>, port?: number, startMs = 60_000): Promise<ServerProcess> {
  port ??= await freePort()
  const child = spawnNode([serverJs], childEnv({ PORT: String(port), HOST: '127.0.0.1', ...env }), ['ignore', 'pipe', 'pipe'])
  let log = ''
  child.stdout!.on('data', (d) => { log += d })
  child.stderr!.on('data', (d) => { log += d })
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + startMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${log}`)
    try {
      if ((await fetch(`${url}/health`)).ok) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`server did not start: ${log}`) }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { url, child, output: () => log, exited }
}

export async function stopServer (server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM')
  await server.exited
}

export const formPost = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() })

/** Runs the gatehouse CLI to completion, with `stdin` as its standard input; resolves with stdout. */
export function runCli (args: string[], env: Record<string, string>, stdin = ''): Promise<string> {
  const child = spawnNode([cliJs, ...args], childEnv(env))
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { err += d })
  child.stdin!.end(stdin)
  return new Promise((resolve, reject) => child.on('exit', (code) => code === 0 ? resolve(out) : reject(new Error(`gatehouse ${args.join(' ')}: exit ${code}: ${err}`))))
}
