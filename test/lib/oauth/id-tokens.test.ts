import t from 'tap'
import { createHmac, createPublicKey } from 'node:crypto'
import { SignJWT, UnsecuredJWT } from 'jose'
import { generateSigningKey, loadKey, type SignerKey } from '../../../lib/keys/signing-keys.js'
import { IdTokens, readIdTokenHint } from '../../../lib/oauth/id-tokens.js'

// ID tokens (lib/oauth/id-tokens.ts) in both algorithms, and the id_token_hint reader against algorithm
// confusion (RFC 8725 §2.1): each published key only with its own algorithm, never `none` or HS256.

const ISSUER = 'https://gatehouse.test'
const rsa = loadKey({ ...generateSigningKey('RS256', 0, 0), seq: 1 }) as SignerKey
const ec = loadKey({ ...generateSigningKey('ES256', 0, 0), seq: 2 }) as SignerKey
const published = [rsa, ec]
const claims = { iss: ISSUER, sub: 'alice', aud: 'web' }
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

t.test('ID tokens: RS256 unless asked otherwise; a hint in either algorithm is read', async (t) => {
  const idTokens = new IdTokens({ issuer: ISSUER, ttl: 60 })
  idTokens.useKeys({ active: ec, published })
  // Cast: other parts of issue 23 add claims to the input; these tests are about the signature only.
  const input = { sub: 'alice', clientId: 'web', accessToken: 'at', authTime: 5, nonce: null } as Parameters<IdTokens['sign']>[0]
  for (const [asked, alg] of [[undefined, 'RS256'], [null, 'RS256'], ['ES256', 'ES256'], ['RS256', 'RS256']] as const) {
    const token = await idTokens.sign(input, 10, asked)
    t.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg, alg, `asked ${asked}: ${alg}`)
    t.same(idTokens.hint(token), { sub: 'alice', aud: 'web' }, 'read back as a hint')
  }
})

t.test('a hint whose header alg is not its key\'s own is refused: the other algorithm, HS256 with the public key as secret, none', async (t) => {
  const sign = (alg: 'RS256' | 'ES256', key: SignerKey, kid: string) =>
    new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', kid }).sign(key.privateKey)
  t.same(readIdTokenHint(await sign('RS256', rsa, rsa.kid), published, ISSUER), { sub: 'alice', aud: 'web' }, 'control: RS256 with the RSA key')
  t.equal(readIdTokenHint(await sign('ES256', ec, rsa.kid), published, ISSUER), undefined, 'ES256 signed by the EC key, naming the RSA kid')
  t.equal(readIdTokenHint(await sign('RS256', rsa, ec.kid), published, ISSUER), undefined, 'RS256 signed by the RSA key, naming the EC kid')
  for (const key of published) {
    // The classic confusion: HMAC keyed with the public key's PEM, which a lax verifier would take as the secret.
    const pem = createPublicKey(key.privateKey).export({ format: 'pem', type: 'spki' }).toString()
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64(claims)}`
    const hs = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`
    t.equal(readIdTokenHint(hs, published, ISSUER), undefined, `HS256 under the ${key.alg} kid`)
    const none = new UnsecuredJWT(claims).encode().replace(/^[^.]+/, b64({ alg: 'none', typ: 'JWT', kid: key.kid }))
    t.equal(readIdTokenHint(none, published, ISSUER), undefined, `none under the ${key.alg} kid`)
  }
})
