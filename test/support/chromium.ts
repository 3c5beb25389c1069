import type { Test } from 'tap'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:http'
import { chromium, type Browser, type Page } from 'playwright-core'

/** Debian's Chromium (`.ci/run` installs it when it is missing); playwright-core drives it. */
export const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** The `skip` of a browser test: run it in CI always (a missing browser must fail there), elsewhere when Chromium is installed. */
export const withoutChromium = existsSync(CHROMIUM) || process.env.CI ? false : 'Debian\'s chromium is not installed'

/**
 * A fresh headless Chromium profile for one test, closed and removed at its end. `problems` collects what the page
 * logs as an error (a CSP refusal, a failed script) and its uncaught errors; a failed load whose status matches
 * `expectedStatus` (an answer the test expects, such as the 401 of a wrong password) is not a problem.
 */
export async function openBrowser (t: Test, options: { width?: number, height?: number, expectedStatus?: RegExp } = {}): Promise<{ page: Page, problems: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: FLAGS, headless: true, viewport: { width: options.width ?? 1024, height: options.height ?? 760 }
  })
  t.teardown(async () => {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  })
  const page = context.pages()[0] ?? await context.newPage()
  const problems: string[] = []
  const expected = options.expectedStatus
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    const status = /^Failed to load resource: the server responded with a status of (\d{3})\b/.exec(message.text())?.[1]
    if (status !== undefined && expected?.test(status)) return
    // Chromium asks every origin it lands on for /favicon.ico by itself; a test server without one is no page fault.
    if (status === '404' && new URL(message.location().url || 'about:blank').pathname === '/favicon.ico') return
    problems.push(message.text())
  })
  page.on('pageerror', (err) => problems.push(err.message))
  return { page, problems }
}

/** A headless Chromium for one test (closed at its end), for tests that open several contexts: several browsers' worth of cookies. */
export async function launchChromium (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })
  t.teardown(() => browser.close())
  return browser
}

/** A client app's redirect URI on loopback (closed at the test's end): it answers a small page; the test reads the URL the browser landed on. */
export async function appCallbackUrl (t: Test): Promise<string> {
  const server = createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end('<!doctype html><title>app</title><p>back at the app</p>') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/cb`
}

/** What a form_post callback received: the method, the Content-Type and the body as sent. */
export interface CallbackRequest { method: string, contentType: string | undefined, body: string }

/**
 * A client app's redirect URI on loopback that records every request to it (response_mode=form_post posts there)
 * and answers a small page; `next()` waits for the next one. Closed at the test's end.
 */
export async function recordingCallback (t: Test): Promise<{ url: string, next: () => Promise<CallbackRequest> }> {
  const waiting: Array<(request: CallbackRequest) => void> = []
  const received: CallbackRequest[] = []
  const server = createServer((req, res) => {
    // Only the callback itself: the browser asks for /favicon.ico on its own.
    if (req.url?.split('?')[0] !== '/cb') {
      res.statusCode = 404
      res.end()
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request = { method: req.method ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }
      const waiter = waiting.shift()
      if (waiter) waiter(request)
      else received.push(request)
      res.setHeader('content-type', 'text/html')
      res.end('<!doctype html><title>app</title><p>back at the app</p>')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const next = () => {
    const first = received.shift()
    return first ? Promise.resolve(first) : new Promise<CallbackRequest>((resolve) => waiting.push(resolve))
  }
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/cb`, next }
}
