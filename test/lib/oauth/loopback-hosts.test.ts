import t from 'tap'
import { allowsPlainHttp } from '../../../lib/oauth/loopback-hosts.js'

t.test('allowsPlainHttp: localhost, 127.0.0.1 and [::1] exactly, as URL.hostname writes them', async (t) => {
  for (const host of ['localhost', '127.0.0.1', '[::1]']) t.ok(allowsPlainHttp(new URL(`http://${host}:8080/cb`).hostname), host)
  for (const host of ['127.0.0.2', 'app.localhost', 'example.com', '10.0.0.1', '[::2]', '0.0.0.0', 'localhost.example.com']) {
    t.notOk(allowsPlainHttp(new URL(`http://${host}/cb`).hostname), `${host}: refused`)
  }
})
