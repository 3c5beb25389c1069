import t from 'tap'
import { newSecret } from '../../../lib/browser/cookies.js'
import { checkCsrf, sameSecret, type CsrfInput } from '../../../lib/browser/csrf.js'
import { PageError } from '../../../lib/errors.js'

// The CSRF rule without an app: double submit, Origin, Sec-Fetch-Site. Through the forms: test/security/browser.test.ts (A9).

const token = newSecret()
const issuerOrigin = 'https://auth.test'
const good: CsrfInput = { cookie: token, field: token, origin: undefined, issuerOrigin }

/** The refusal checkCsrf throws, or undefined when it lets the form through. */
function refusal (input: Partial<CsrfInput>): PageError | undefined {
  try {
    checkCsrf({ ...good, ...input })
    return undefined
  } catch (err) {
    if (err instanceof PageError) return err
    throw err
  }
}

t.test('this browser\'s token, from this origin or none: through', async (t) => {
  t.equal(refusal({}), undefined, 'no Origin (an older browser, a same-origin GET form)')
  t.equal(refusal({ origin: issuerOrigin }), undefined, 'the issuer\'s origin')
  t.equal(refusal({ origin: 'null' }), undefined, 'Origin: null (the pages send no Referer, so browsers say null)')
  t.equal(refusal({ fetchSite: 'same-origin' }), undefined)
  t.equal(refusal({ fetchSite: 'none' }), undefined, 'typed or bookmarked')
})

t.test('refused with 403 invalid_request: no token, another token, a malformed cookie, another site', async (t) => {
  const refusals: Array<[string, Partial<CsrfInput>]> = [
    ['no field', { field: undefined }],
    ['a field that is not text', { field: [token] }],
    ['another browser\'s token', { field: newSecret() }],
    ['no cookie', { cookie: undefined }],
    ['a cookie that is not one of ours, matched by the field', { cookie: 'short', field: 'short' }],
    ['an empty cookie and field', { cookie: '', field: '' }],
    ['another origin', { origin: 'https://evil.test' }],
    ['the issuer on another port', { origin: 'https://auth.test:8443' }],
    ['Sec-Fetch-Site: cross-site', { fetchSite: 'cross-site' }]
  ]
  for (const [label, input] of refusals) {
    const err = refusal(input)
    t.match(err, { statusCode: 403, error: 'invalid_request' }, label)
  }
})

t.test('sameSecret: equal texts only, whatever their lengths', async (t) => {
  t.ok(sameSecret(token, token))
  t.notOk(sameSecret(token, token.slice(0, -1)))
  t.notOk(sameSecret(token, `${token}x`))
  t.notOk(sameSecret('', token))
  t.ok(sameSecret('', ''))
})
