import t from 'tap'
import net from 'node:net'
import { buildListening } from '../support/helper.js'

/**
 * Issue 10, lower items: a form body in another charset than UTF-8 is refused (400 invalid_request, RFC 6749
 * §5.2 shape) rather than read as UTF-8; a request with both Content-Length and Transfer-Encoding (request
 * smuggling's raw material) gets the same OAuth-shaped 400 from the HTTP parser's error handler, checked on a
 * raw socket since no HTTP client sends it.
 */
function raw (port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request))
    let reply = ''
    socket.on('data', (chunk) => { reply += chunk })
    socket.on('close', () => resolve(reply))
    socket.on('error', reject)
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')))
  })
}

t.test('form bodies declaring a charset other than UTF-8 are refused before they are read', async (t) => {
  const { url } = await buildListening(t)
  const body = 'grant_type=password&username=alice&password=secret'
  for (const contentType of ['application/x-www-form-urlencoded; charset=utf-16', 'application/x-www-form-urlencoded;charset="ISO-8859-1"', 'Application/X-WWW-Form-Urlencoded; Charset=UTF-16LE']) {
    const res = await fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': contentType }, body })
    t.equal(res.status, 400, `${contentType}: 400`)
    t.equal(res.headers.get('cache-control'), 'no-store')
    t.match(await res.json(), { error: 'invalid_request', error_description: /^form bodies must be UTF-8, not charset=/ }, `${contentType}: invalid_request`)
  }
  for (const contentType of ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8', 'application/x-www-form-urlencoded; charset=utf8']) {
    const res = await fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': contentType }, body })
    t.match(await res.json(), { error: 'invalid_grant' }, `${contentType}: read (an unknown user)`)
  }
})

t.test('Content-Length together with Transfer-Encoding: an OAuth-shaped 400, and the connection is closed', async (t) => {
  const { url } = await buildListening(t)
  const port = Number(new URL(url).port)
  const reply = await raw(port, 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
    'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
  const [head = '', body = ''] = reply.split('\r\n\r\n')
  t.match(head, /^HTTP\/1\.1 400 /, '400')
  t.match(head, /\r\ncontent-type: application\/json/i)
  t.match(head, /\r\ncache-control: no-store/i)
  t.match(head, /\r\npragma: no-cache/i)
  t.match(head, /\r\nconnection: close/i)
  t.same(JSON.parse(body), { error: 'invalid_request', error_description: 'the request is malformed' })
})
