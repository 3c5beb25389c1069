import t from 'tap'
import { clientNameProblem, logoSource, logoUriProblem, shownClient } from '../../../lib/oauth/client-display.js'

// What the sign-in pages show of a client an administrator made (lib/oauth/client-display.ts).

t.test('a client name: 1 to 100 characters once trimmed, no control or direction characters', async (t) => {
  for (const ok of ['Acme Web', 'Café <b>', 'x'.repeat(100), '  padded  ']) t.equal(clientNameProblem(ok), undefined, JSON.stringify(ok))
  for (const bad of ['', '   ', 'x'.repeat(101), 'tab\there', 'new\nline', 'evil\u202eesrever', 'nul\u0000']) t.type(clientNameProblem(bad), 'string', JSON.stringify(bad))
})

t.test('a logo URL: https, or http on loopback; no credentials, fragment, white space, quotes, ; or ,', async (t) => {
  for (const ok of ['https://cdn.example/logo.png', 'https://cdn.example/l.svg?v=2', 'http://127.0.0.1:8080/logo.png', 'http://localhost/logo.png', 'http://[::1]/l.png']) {
    t.equal(logoUriProblem(ok), undefined, ok)
  }
  for (const bad of ['http://cdn.example/logo.png', 'data:image/png;base64,AAAA', 'javascript:alert(1)', 'https://u:p@cdn.example/l.png', 'https://cdn.example/l.png#x',
    "https://cdn.example/l.png'; script-src *", 'https://cdn.example/a b.png', 'https://cdn.example/a;b.png', 'https://cdn.example/a,b.png', 'https://cdn.example/a"b', 'not a url',
    `https://cdn.example/${'a'.repeat(2000)}`, 'ftp://cdn.example/l.png']) {
    t.type(logoUriProblem(bad), 'string', bad.slice(0, 60))
  }
})

t.test('the CSP source of a logo: its origin and path, without the query; no character that could end the directive', async (t) => {
  t.equal(logoSource('https://cdn.example/brand/logo.png?v=3'), 'https://cdn.example/brand/logo.png')
  t.equal(logoSource('http://127.0.0.1:8080/l.png'), 'http://127.0.0.1:8080/l.png')
  // A registered client's URL (checked by registration's own rules) may hold them: encoded.
  t.equal(logoSource("https://cdn.example/a;b,c'd.png"), 'https://cdn.example/a%3Bb%2Cc%27d.png')
})

t.test('the pages show an administrator\'s client by its name and logo; a self-registered one by its id only', async (t) => {
  const base = { id: 'web', registration: null, clientName: null, logoUri: null }
  t.same(shownClient(base), { name: 'web', logo: undefined })
  t.same(shownClient({ ...base, clientName: 'Acme', logoUri: 'https://cdn.example/l.png' }), { name: 'Acme', logo: 'https://cdn.example/l.png' })
  t.same(shownClient({ ...base, registration: 'open', clientName: 'Your Bank', logoUri: 'https://evil.example/bank.png' }), { name: 'web', logo: undefined })
})
