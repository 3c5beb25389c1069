import t from 'tap'
import { consoleCookieAttributes, cookieAttributes, cookieNames, isSecretValue, newSecret } from '../../../lib/browser/cookies.js'

// The cookie rules without an app; what a browser receives is asserted in test/security/browser.test.ts (A9).

t.test('an https issuer: __Host- names and Secure; an http one: plain names, not Secure', async (t) => {
  t.same(cookieNames('https://auth.example.com'), { session: '__Host-gatehouse-session', csrf: '__Host-gatehouse-csrf', upstream: '__Host-gatehouse-upstream', step: '__Host-gatehouse-step', console: '__Host-gatehouse-console', consoleSignIn: '__Host-gatehouse-console-signin', secure: true })
  t.same(cookieNames('http://127.0.0.1:3000'), { session: 'gatehouse-session', csrf: 'gatehouse-csrf', upstream: 'gatehouse-upstream', step: 'gatehouse-step', console: 'gatehouse-console', consoleSignIn: 'gatehouse-console-signin', secure: false })
  t.equal(cookieNames('HTTPS://auth.example.com').secure, false, 'only a normalised https issuer counts (the config normalises it)')
})

t.test('every cookie: Path=/, HttpOnly, SameSite=Lax; Secure with https; a lifetime only when given', async (t) => {
  const https = cookieNames('https://auth.example.com')
  t.same(cookieAttributes(https), { path: '/', httpOnly: true, sameSite: 'lax', secure: true })
  t.same(cookieAttributes(https, 3600), { path: '/', httpOnly: true, sameSite: 'lax', secure: true, maxAge: 3600 })
  t.same(cookieAttributes(cookieNames('http://localhost'), 0), { path: '/', httpOnly: true, sameSite: 'lax', secure: false, maxAge: 0 }, 'Max-Age=0 deletes')
})

t.test('secrets: 256 bits of base64url; anything else is not one of our values', async (t) => {
  const a = newSecret()
  t.match(a, /^[A-Za-z0-9_-]{43}$/)
  t.not(a, newSecret())
  t.ok(isSecretValue(a))
  for (const value of [undefined, '', a.slice(1), `${a}A`, `${a.slice(1)}=`, `${a.slice(1)}+`, `${a.slice(1)}%`]) t.notOk(isSecretValue(value), JSON.stringify(value))
})

t.test('the console session cookie is SameSite=Strict, HttpOnly, Secure with an https issuer', async (t) => {
  t.same(consoleCookieAttributes(cookieNames('https://auth.example.com'), 900), { path: '/', httpOnly: true, sameSite: 'strict', secure: true, maxAge: 900 })
})
