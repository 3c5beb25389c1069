import net from 'node:net'

/**
 * A TCP proxy in front of a real server, for outage tests that must not touch the server itself:
 * `stop()` is "the database went away" (connections reset, port refuses), `start()` brings it back on
 * the same port, and `mode = 'blackhole'` is "the network stopped answering" (bytes are swallowed, so
 * only timeouts can notice).
 */
export interface TcpProxy {
  readonly port: number
  mode: 'forward' | 'blackhole'
  start (): Promise<void>
  stop (): Promise<void>
}

export async function startTcpProxy (target: { host: string, port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket): void => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {}) // resets are the point of the exercise
  }
  const server = net.createServer((downstream) => {
    const upstream = net.connect(target.port, target.host)
    track(downstream)
    track(upstream)
    downstream.on('data', (chunk) => { if (proxy.mode === 'forward') upstream.write(chunk) })
    upstream.on('data', (chunk) => { if (proxy.mode === 'forward') downstream.write(chunk) })
    downstream.on('close', () => upstream.destroy())
    upstream.on('close', () => downstream.destroy())
  })
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  await listen(0)
  const port = (server.address() as net.AddressInfo).port
  const proxy: TcpProxy = {
    port,
    mode: 'forward',
    start: () => listen(port),
    async stop () {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    }
  }
  return proxy
}

/** A local port nothing listens on (bound, then released). */
export async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
