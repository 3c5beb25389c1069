import t from 'tap'
import { createInput, updatePatch } from '../../../lib/console/clients.js'

// lib/console/clients.ts: the console's client forms read into lib/admin/clients.ts's inputs, shape only.

t.test('the create form: lists a line each, ticked boxes, empty fields as none', async (t) => {
  t.same(createInput({
    csrf: 'x',
    client_id: ' web ',
    public: 'on',
    grant_authorization_code: 'on',
    grant_refresh_token: 'on',
    scope: ' openid  items:read ',
    redirect_uris: 'https://a.example.test/cb\r\n\r\n  https://a.example.test/two  ',
    skip_consent: 'on',
    dpop: 'on',
    jwks_uri: ''
  }), {
    id: 'web',
    input: {
      isPublic: true,
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid  items:read',
      redirectUris: ['https://a.example.test/cb', 'https://a.example.test/two'],
      skipConsent: true,
      requireMfa: false,
      dpopBoundAccessTokens: true,
      requirePar: false,
      jwksUri: null
    }
  })
  t.match(createInput({}), { id: '', input: { isPublic: false, grantTypes: [], scope: null, redirectUris: [] } }, 'nothing sent: nothing ticked, the service judges')
  t.same(createInput({ grant_password: 'on', grant_implicit: 'on' }).input.grantTypes, [], 'only the grants the form offers')
})

t.test('the edit form: the jwks_uri only when it changed (an API-registered JWK Set survives an empty field)', async (t) => {
  t.notOk('jwksUri' in updatePatch({ jwks_uri: '' }, { jwksUri: null }), 'empty and none: untouched')
  t.notOk('jwksUri' in updatePatch({ jwks_uri: 'https://k.example.test/jwks' }, { jwksUri: 'https://k.example.test/jwks' }), 'the same: untouched')
  t.equal(updatePatch({ jwks_uri: '' }, { jwksUri: 'https://k.example.test/jwks' }).jwksUri, null, 'emptied: removed')
  t.equal(updatePatch({ jwks_uri: 'https://n.example.test/jwks' }, { jwksUri: null }).jwksUri, 'https://n.example.test/jwks')
  t.match(updatePatch({ require_par: 'on', require_mfa: 'on' }, { jwksUri: null }), { requirePar: true, requireMfa: true, skipConsent: false, dpopBoundAccessTokens: false }, 'an unticked box turns the flag off')
})
