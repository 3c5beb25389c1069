import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from '../support/helper.js'
import { authorizeThrough, browserFixtures, InjectBrowser, webRequest } from '../support/browser.js'

// VIEWS_DIR: an operator's copy of views/ replaces the templates it has; a page it does not have (one that arrived
// with an upgrade after the copy was made) comes from the built-in views/, never a 500.

t.test('VIEWS_DIR: the copy\'s templates win, the others come from views/', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-views-'))
  writeFileSync(join(dir, 'login.eta'), '<% layout(\'layout\', { ...it, title: \'Sign in\' }) %><p>Operator login for <%= it.issuerName %></p><form method="post" action="/login"><input type="hidden" name="csrf" value="<%= it.csrf %>"></form>')
  const app = await build(t, { VIEWS_DIR: dir })
  await browserFixtures(app, { skipConsent: true })

  const browser = new InjectBrowser(app)
  const login = await browser.get(webRequest().url)
  t.equal(login.statusCode, 200)
  t.match(login.body, /Operator login for/, 'the copy\'s login page')
  t.match(login.body, /<html/, 'in the built-in layout, which the copy does not have')

  const other = new InjectBrowser(app)
  const bad = await other.get('/authorize?client_id=nobody&response_type=code')
  t.equal(bad.statusCode, 400, 'the built-in error page')
  t.match(bad.body, /Something went wrong/)
})

t.test('VIEWS_DIR: a copy made before the logout confirmation existed still signs out through it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-views-'))
  writeFileSync(join(dir, 'signed-out.eta'), '<p>Operator says bye</p>')
  const app = await build(t, { VIEWS_DIR: dir })
  await browserFixtures(app, { skipConsent: true })
  const browser = new InjectBrowser(app)
  await authorizeThrough(browser, webRequest().url)
  const confirm = await browser.get('/logout')
  t.equal(confirm.statusCode, 200, 'not a 500')
  t.match(confirm.body, /Sign out/, 'the built-in confirmation page')
})
