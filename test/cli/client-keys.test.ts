import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sharedDatabaseUrl } from '../support/helper.js'
import { runCli } from '../support/oauth.js'
import { clientKey, jwksOf } from '../support/client-keys.js'

// `gatehouse clients add|update … --jwks-uri URL | --jwks-file FILE [--token-endpoint-auth-method M]` (CONTRACT.md,
// docs/client-authentication.md): a client added with keys is confidential, uses private_key_jwt and gets no secret.

const ISSUER = 'https://auth.example.com'
interface Run { code: number | null, stdout: string, stderr: string }
const cli = (args: string[], env: Record<string, string>): Promise<Run> => runCli(args, { ISSUER, ...env })
function ok (t: Test, run: Run, label: string): any {
  t.equal(run.code, 0, `${label}: exit 0`)
  t.equal(run.stderr, '', `${label}: nothing on stderr`)
  return JSON.parse(run.stdout)
}
function fails (t: Test, run: Run, label: string, message: RegExp): void {
  t.equal(run.code, 1, `${label}: exit 1`)
  t.match(run.stderr, message, `${label}: says why`)
}

t.test('clients add/update with --jwks-file, --jwks-uri and --token-endpoint-auth-method', async (t) => {
  const env = { DATABASE_URL: await sharedDatabaseUrl(t) }
  const dir = t.testdir({})
  const key = await clientKey('ES256')
  const file = join(dir, 'keys.json')
  writeFileSync(file, JSON.stringify(jwksOf(key)))
  const added = ok(t, await cli(['clients', 'add', 'svc', '--jwks-file', file], env), 'clients add --jwks-file')
  t.match(added, { client_id: 'svc', public: false, token_endpoint_auth_method: 'private_key_jwt', jwks: jwksOf(key), jwks_uri: null })
  t.notOk('client_secret' in added, 'no secret for a client added with keys')
  const both = ok(t, await cli(['clients', 'add', 'web', '--grant', 'client_credentials', '--jwks-uri', 'https://web.example/jwks', '--token-endpoint-auth-method', 'client_secret_basic'], env), 'keys and a secret method')
  t.match(both, { jwks_uri: 'https://web.example/jwks', token_endpoint_auth_method: 'client_secret_basic' })
  t.type(both.client_secret, 'string', 'asked for: a secret too')
  const moved = ok(t, await cli(['clients', 'update', 'svc', '--jwks-uri', 'https://svc.example/jwks'], env), 'update --jwks-uri')
  t.match(moved, { jwks: null, jwks_uri: 'https://svc.example/jwks', token_endpoint_auth_method: 'private_key_jwt' }, 'the URI replaces the inline keys')
  const cleared = ok(t, await cli(['clients', 'update', 'svc', '--jwks-uri', '', '--token-endpoint-auth-method', ''], env), 'update: keys removed')
  t.match(cleared, { jwks: null, jwks_uri: null, token_endpoint_auth_method: null })
  t.type(cleared.client_secret, 'string', 'without keys it needs a secret: issued in that reply')

  fails(t, await cli(['clients', 'add', 'x', '--jwks-uri', 'https://a.example/j', '--jwks-file', file], env), 'both', /together/)
  fails(t, await cli(['clients', 'add', 'x', '--jwks-uri', 'http://keys.example/j'], env), 'plain http', /must be https/)
  fails(t, await cli(['clients', 'add', 'x', '--public', '--grant', 'password', '--jwks-file', file], env), 'a public client with keys', /public client cannot have keys/)
  writeFileSync(file, JSON.stringify({ keys: [{ ...key.publicJwk, d: 'AAAA' }] }))
  fails(t, await cli(['clients', 'add', 'x', '--jwks-file', file], env), 'a private key', /private or symmetric key/)
  fails(t, await cli(['clients', 'add', 'x', '--jwks-file', join(dir, 'missing.json')], env), 'no such file', /cannot read/)
  fails(t, await cli(['clients', 'add', 'x', '--token-endpoint-auth-method', 'client_secret_jwt'], env), 'client_secret_jwt', /not supported: secrets are stored as digests/)
})
