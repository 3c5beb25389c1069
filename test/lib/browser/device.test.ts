import t from 'tap'
import { describeDevice } from '../../../lib/browser/device.js'
import { SESSION_USER_AGENT_LENGTH, sessionUserAgent } from '../../../lib/browser/sessions.js'

// The account page's device names, from real User-Agent strings; and what a session keeps of the header.

t.test('common browsers and systems', async (t) => {
  const cases: Array<[string, string]> = [
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'Edge on Windows'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', 'Safari on macOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', 'Safari on iPhone'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0', 'Opera on Windows'],
    ['curl/8.5.0', 'curl'],
    ['lightMyRequest', 'Other browser'],
    ['', 'Unknown device']
  ]
  for (const [ua, name] of cases) t.equal(describeDevice(ua), name, ua)
  t.equal(describeDevice(null), 'Unknown device')
})

t.test('a session keeps printable ASCII only, bounded', async (t) => {
  t.equal(sessionUserAgent(undefined), null)
  t.equal(sessionUserAgent('   '), null)
  t.equal(sessionUserAgent('a\u0000b\nc\u00e9d'), 'abcd', 'no NUL, no line break, no other control or non-ASCII character')
  t.equal(sessionUserAgent('x'.repeat(5000))?.length, SESSION_USER_AGENT_LENGTH)
  t.equal(sessionUserAgent(['first', 'second']), 'first')
})
