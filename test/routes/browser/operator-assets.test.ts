import t from 'tap'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { InjectBrowser, browserFixtures, webRequest } from '../../support/browser.js'
import { build } from '../../support/helper.js'

// ASSETS_DIR: the operator's stylesheet and logo on every page, and their files under /assets/ (lib/browser/operator-assets.ts).

t.test('the operator\'s stylesheet and logo: on the pages (the stylesheet by the page\'s nonce), served under /assets/', async (t) => {
  const dir = t.testdir({
    'theme.css': ':root { --accent: #0a6b3d; }',
    'logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'bg.png': 'png',
    'evil.js': 'alert(1)',
    'page.html': '<script>alert(1)</script>',
    '.hidden.css': 'x'
  })
  writeFileSync(join(dir, 'big.png'), Buffer.alloc(2 * 1024 * 1024 + 1))
  mkdirSync(join(dir, 'sub.css'))
  symlinkSync('/etc/hostname', join(dir, 'link.css'))
  const app = await build(t, { ASSETS_DIR: dir })
  await browserFixtures(app)

  const page = await new InjectBrowser(app).get(webRequest().url)
  const nonce = /style-src 'nonce-([^']+)'/.exec(String(page.headers['content-security-policy']))?.[1]
  t.ok(nonce)
  t.match(page.body, new RegExp(`<link rel="stylesheet" href="/assets/theme\\.css\\?v=[0-9a-f]{12}" nonce="${nonce?.replace(/[+/]/g, '\\$&') ?? ''}">`), 'the stylesheet, with the page\'s nonce')
  t.match(page.body, /<img class="brand-logo" src="\/assets\/logo\.svg\?v=[0-9a-f]{12}"/, 'the logo instead of the built-in mark')

  const css = await app.inject('/assets/theme.css?v=1')
  t.equal(css.statusCode, 200)
  t.equal(css.headers['content-type'], 'text/css; charset=utf-8')
  t.equal(css.body, ':root { --accent: #0a6b3d; }')
  t.equal(css.headers['x-content-type-options'], 'nosniff')
  const svg = await app.inject('/assets/logo.svg')
  t.equal(svg.headers['content-type'], 'image/svg+xml')
  t.match(String(svg.headers['content-security-policy']), /default-src 'none'.*sandbox/, 'an SVG opened by itself runs nothing')
  t.equal((await app.inject('/assets/bg.png')).statusCode, 200)
  for (const file of ['evil.js', 'page.html', '.hidden.css', 'big.png', 'sub.css', 'link.css', '..%2Fetc%2Fpasswd', '%2Fetc%2Fhostname', 'nothing.css']) {
    t.equal((await app.inject(`/assets/${file}`)).statusCode, 404, file)
  }
})

t.test('without ASSETS_DIR: the built-in mark, no stylesheet link', async (t) => {
  const app = await build(t)
  await browserFixtures(app)
  const page = await new InjectBrowser(app).get(webRequest().url)
  t.notMatch(page.body, /<link rel="stylesheet"/)
  t.match(page.body, /<div class="brand"><svg/)
  t.equal((await app.inject('/assets/theme.css')).statusCode, 404)
})
