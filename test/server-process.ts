import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort, FAST_HASH } from './helper.js'

const serverJs = fileURLToPath(new URL('../server.js', import.meta.url))

export interface ServerProcess {
  url: string
  child: ChildProcess
  output: () => string
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string | null>
}

/** The environment of a child process, without tap's loaders (NODE_OPTIONS) that would slow it down. */
export function childEnv (env: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...rest } = process.env
  return { ...rest, ...FAST_HASH, LOG_LEVEL: 'warn', ...env }
}

/** Starts `node dist/server.js` on a free port and waits until /health answers. */
export async function startServer (env: Record<string, string>, port?: number): Promise<ServerProcess> {
  port ??= await freePort()
  const child = spawn(process.execPath, [serverJs], { env: childEnv({ PORT: String(port), HOST: '127.0.0.1', ...env }), stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.on('data', (d) => { log += d })
  child.stderr!.on('data', (d) => { log += d })
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 15_000
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
