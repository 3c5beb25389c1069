import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import net from 'node:net'
import tls from 'node:tls'
import type { Test } from 'tap'
import { REPO_ROOT } from '../../support/paths.js'

/**
 * The conformance suite tests an OP on https (CheckDiscEndpointAllEndpointsAreHttps is a failure), and so do these
 * tests: a self-signed certificate for 127.0.0.1 (test only, valid for a century; tls/README.md says how it was
 * made) in front of Gatehouse and of the conformance RP. Node's HTTPS requests trust it through `ca`; Chromium is
 * told to ignore certificate errors.
 */
const DIR = join(REPO_ROOT, 'test', 'conformance', 'support', 'tls')
export const TLS = { cert: readFileSync(join(DIR, 'cert.pem')), key: readFileSync(join(DIR, 'key.pem')) }

/** Listens on loopback; with port 0, on any free port. Resolves with the port. */
export async function listenOn (server: net.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  return (server.address() as net.AddressInfo).port
}

/**
 * HTTPS on `port` in front of the plain HTTP server on `target`: TLS ends here and Gatehouse sees its usual
 * loopback traffic (it derives every URL and the cookies' `__Host-`/Secure from ISSUER, never from the request).
 * Closed at the end of the test, before the app (teardowns run last-in, first-out).
 */
export async function tlsFront (t: Test, port: number, target: number): Promise<void> {
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {}) // a browser closing a connection abruptly is not the test's concern
  }
  const server = tls.createServer(TLS, (front) => {
    const back = net.connect(target, '127.0.0.1')
    track(front)
    track(back)
    front.pipe(back).pipe(front)
  })
  await listenOn(server, port)
  t.teardown(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await closed
  })
}
