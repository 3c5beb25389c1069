import { readFileSync } from 'node:fs'
import { createClient, deleteClient, findClient, issuerOnLoopback, toClientView, updateClient } from '../lib/admin/clients.js'
import { command, commaList, one, UsageError, type CommandGroup } from './command.js'

/** Flags `clients add` and `clients update` share. */
const CLIENT_FLAGS = {
  grant: {
    type: 'string',
    multiple: true,
    value: 'g1,g2',
    description: 'grant types, comma-separated: client_credentials, password, refresh_token, authorization_code, urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange'
  },
  scope: {
    type: 'string',
    value: '"a b"',
    description: 'the scopes the client may ask for; without it, only the scopes of the user it acts for (and none with client_credentials)'
  },
  'redirect-uri': {
    type: 'string',
    multiple: true,
    value: 'URI',
    description: 'a redirect URI for the authorization code flow: absolute, no fragment, https unless loopback; matched exactly'
  },
  'post-logout-redirect-uri': {
    type: 'string',
    multiple: true,
    value: 'URI',
    description: 'where GET /logout may send the browser back to (the same rules as --redirect-uri)'
  },
  'skip-consent': { type: 'boolean', description: 'a first-party app: its users see no consent page' },
  providers: {
    type: 'string',
    value: 'a,b',
    description: 'its users sign in through these upstream providers only, with no password form (\'\' lifts the restriction)'
  },
  pkce: {
    type: 'string',
    value: 'POLICY',
    description: 'required (the default) or optional: optional lets this confidential client send authorization requests without PKCE (the OpenID nonce then protects the code; public clients: always required)'
  },
  'id-token-alg': {
    type: 'string',
    value: 'ALG',
    description: 'RS256 or ES256: how its ID tokens are signed (\'\': the server default, RS256)'
  },
  'userinfo-alg': {
    type: 'string',
    value: 'ALG',
    description: 'RS256 or ES256: /userinfo answers it as a signed JWT (\'\': plain JSON, the default)'
  },
  'backchannel-logout-uri': {
    type: 'string',
    value: 'URI',
    description: 'OpenID Connect Back-Channel Logout: where a logout token is posted when a session of its users ends (\'\': none)'
  },
  'require-mfa': { type: 'boolean', description: 'its users must use a second factor in the browser; those without one enrol one first' },
  dpop: { type: 'boolean', description: 'every token request must carry a DPoP proof (RFC 9449 dpop_bound_access_tokens): its access tokens are always DPoP-bound' },
  'password-grant-skips-mfa': {
    type: 'boolean',
    description: 'legacy: the password grant gives tokens to users who have a second factor, on the password alone (off by default: they get invalid_grant)'
  },
  'require-par': { type: 'boolean', description: 'its authorization requests must be pushed to POST /par first (RFC 9126); a plain /authorize is refused' },
  'exchange-sources': {
    type: 'string',
    value: '"uri1 uri2"',
    description: 'token exchange: the registered resources this client acts for; it may exchange tokens issued for them (\'\': none, the default)'
  },
  'exchange-targets': {
    type: 'string',
    value: '"uri1 uri2"',
    description: 'token exchange: the registered resources this client may exchange a token for (\'\': none, the default)'
  },
  'jwks-uri': {
    type: 'string',
    value: 'URL',
    description: 'where the client publishes its public keys (a JWK Set, https): it authenticates with private_key_jwt (RFC 7523) and may sign request objects; a client added with keys gets no secret (\'\': none)'
  },
  'jwks-file': {
    type: 'string',
    value: 'FILE',
    description: 'a file holding the client\'s public keys as a JWK Set (JSON; public keys only), stored inline; the same use as --jwks-uri, never both (\'\': none)'
  },
  name: {
    type: 'string',
    value: 'NAME',
    description: 'the name the login and consent pages show instead of the client id (1-100 characters, shown as text; \'\': its id again)'
  },
  'logo-uri': {
    type: 'string',
    value: 'URL',
    description: 'the logo the login and consent pages show: an https URL (http on loopback); the page\'s CSP allows exactly it (\'\': none)'
  },
  'token-endpoint-auth-method': {
    type: 'string',
    value: 'METHOD',
    description: 'the one way it may authenticate: client_secret_basic, client_secret_post, private_key_jwt or none (\'\': any it has credentials for). With keys, client_secret_basic or client_secret_post gives it a secret too'
  }
} as const

/** `--jwks-file FILE` as the JWK Set it holds ('' removes the set: null); absent: undefined. */
function jwksFile (path: string | undefined): unknown {
  if (path === undefined) return undefined
  if (path === '') return null
  let text: string
  try { text = readFileSync(path, 'utf8') } catch (err) { throw new UsageError(`--jwks-file: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`) }
  try { return JSON.parse(text) as unknown } catch { throw new UsageError(`--jwks-file: ${path} is not JSON`) }
}

/** A space-separated list of resource URIs ('' empties it); absent: undefined. */
const uriList = (value: string | undefined): string[] | undefined => value === undefined ? undefined : value.split(' ').filter((u) => u !== '')

/** A flag whose '' means "none" (null); absent: undefined. */
const orNull = (value: string | undefined): string | null | undefined => value === undefined ? undefined : value === '' ? null : value

/** A `--flag` / `--no-flag` pair: true, false, or undefined (neither given: unchanged). */
const onOff = (on: boolean | undefined, off: boolean | undefined): boolean | undefined => on ? true : off ? false : undefined

/** `--providers a,b` as a list; '' lifts the restriction (null); absent: undefined. */
function providerList (value: string | undefined): string[] | null | undefined {
  if (value === undefined) return undefined
  const names = commaList([value])
  return names.length === 0 ? null : names
}

/** `gatehouse clients …`: the applications that ask for tokens (lib/admin/clients.ts). */
export const clients: CommandGroup = {
  name: 'clients',
  summary: 'manage the applications that ask for tokens',
  commands: [
    command({
      name: 'add',
      operations: ['createOAuthClient'],
      summary: 'register a client and print it; a confidential client\'s secret is printed this once (stored only as a digest)',
      usage: ['CLIENT_ID [--public] [--grant g1,g2] [--scope "a b"] [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--skip-consent] [--providers a,b] [--pkce optional] [--id-token-alg ALG] [--userinfo-alg ALG] [--backchannel-logout-uri URI] [--require-mfa] [--dpop] [--password-grant-skips-mfa] [--require-par] [--exchange-sources "uri1 uri2"] [--exchange-targets "uri1 uri2"] [--jwks-uri URL | --jwks-file FILE] [--token-endpoint-auth-method METHOD] [--name NAME] [--logo-uri URL]'],
      details: ['Without --grant, a confidential client gets client_credentials and a public one authorization_code,refresh_token.'],
      positionals: true,
      flags: {
        public: { type: 'boolean', description: 'a public client (a single-page or native app): no secret, PKCE only; it cannot have client_credentials' },
        ...CLIENT_FLAGS
      },
      async run ({ values, positionals }, { config, storage }) {
        const id = one(positionals, 'CLIENT_ID')
        if (values['jwks-uri'] !== undefined && values['jwks-file'] !== undefined) throw new UsageError('--jwks-uri and --jwks-file together (a client has one or the other)')
        const isPublic = values.public ?? false
        const grantTypes = values.grant ? commaList(values.grant) : isPublic ? ['authorization_code', 'refresh_token'] : ['client_credentials']
        const { client, secret } = await createClient(await storage(), id, {
          isPublic,
          grantTypes,
          scope: values.scope ?? null,
          redirectUris: values['redirect-uri'] ?? [],
          postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
          skipConsent: values['skip-consent'] ?? false,
          providers: providerList(values.providers) ?? null,
          pkce: values.pkce,
          idTokenAlg: orNull(values['id-token-alg']),
          userinfoAlg: orNull(values['userinfo-alg']),
          backchannelLogoutUri: orNull(values['backchannel-logout-uri']),
          requireMfa: values['require-mfa'] ?? false,
          dpopBoundAccessTokens: values.dpop ?? false,
          passwordGrantSkipsMfa: values['password-grant-skips-mfa'] ?? false,
          requirePar: values['require-par'] ?? false,
          exchangeSources: uriList(values['exchange-sources']),
          exchangeTargets: uriList(values['exchange-targets']),
          jwks: jwksFile(values['jwks-file']),
          jwksUri: orNull(values['jwks-uri']),
          tokenEndpointAuthMethod: orNull(values['token-endpoint-auth-method']),
          clientName: orNull(values.name),
          logoUri: orNull(values['logo-uri'])
        }, { issuerOnLoopback: issuerOnLoopback(config.issuer) })
        return { ...toClientView(client), ...(secret === undefined ? {} : { client_secret: secret }) }
      }
    }),
    command({
      name: 'get',
      operations: ['getClient'],
      summary: 'one client as GET /admin/clients/{client_id} shows it (never a secret)',
      usage: ['CLIENT_ID'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        return toClientView(await findClient(await storage(), one(positionals, 'CLIENT_ID')))
      }
    }),
    command({
      name: 'update',
      operations: ['updateClient'],
      summary: 'change a client and print it: each option given replaces what is stored, the others stay',
      usage: ['CLIENT_ID [--grant g1,g2] [--scope "a b"] [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--skip-consent|--no-skip-consent] [--providers a,b] [--pkce POLICY] [--id-token-alg ALG] [--userinfo-alg ALG] [--backchannel-logout-uri URI] [--require-mfa|--no-require-mfa] [--dpop|--no-dpop] [--password-grant-skips-mfa|--no-password-grant-skips-mfa] [--require-par|--no-require-par] [--exchange-sources "uri1 uri2"] [--exchange-targets "uri1 uri2"] [--jwks-uri URL | --jwks-file FILE] [--token-endpoint-auth-method METHOD] [--name NAME] [--logo-uri URL]'],
      positionals: true,
      flags: {
        ...CLIENT_FLAGS,
        'no-skip-consent': { type: 'boolean', description: 'show the consent page again' },
        'no-require-mfa': { type: 'boolean', description: 'its users need a second factor only when the server or the request asks for one' },
        'no-dpop': { type: 'boolean', description: 'token requests may come without a DPoP proof again (bearer tokens)' },
        'no-password-grant-skips-mfa': { type: 'boolean', description: 'the password grant refuses users who have a second factor again' },
        'no-require-par': { type: 'boolean', description: 'its authorization requests may come to /authorize directly again (unless REQUIRE_PAR=on)' }
      },
      async run ({ values, positionals }, { clock, config, storage }) {
        const id = one(positionals, 'CLIENT_ID')
        for (const flag of ['skip-consent', 'require-mfa', 'password-grant-skips-mfa', 'require-par', 'dpop'] as const) {
          if (values[flag] && values[`no-${flag}`]) throw new UsageError(`--${flag} and --no-${flag} together`)
        }
        if (values['jwks-uri'] !== undefined && values['jwks-file'] !== undefined) throw new UsageError('--jwks-uri and --jwks-file together (a client has one or the other)')
        const { client, secret } = await updateClient({ storage: await storage(), clock, config }, id, {
          grantTypes: values.grant === undefined ? undefined : commaList(values.grant),
          scope: values.scope,
          redirectUris: values['redirect-uri'],
          postLogoutRedirectUris: values['post-logout-redirect-uri'],
          skipConsent: onOff(values['skip-consent'], values['no-skip-consent']),
          providers: providerList(values.providers),
          pkce: values.pkce,
          idTokenAlg: orNull(values['id-token-alg']),
          userinfoAlg: orNull(values['userinfo-alg']),
          backchannelLogoutUri: orNull(values['backchannel-logout-uri']),
          requireMfa: onOff(values['require-mfa'], values['no-require-mfa']),
          dpopBoundAccessTokens: onOff(values.dpop, values['no-dpop']),
          passwordGrantSkipsMfa: onOff(values['password-grant-skips-mfa'], values['no-password-grant-skips-mfa']),
          requirePar: onOff(values['require-par'], values['no-require-par']),
          exchangeSources: uriList(values['exchange-sources']),
          exchangeTargets: uriList(values['exchange-targets']),
          jwks: jwksFile(values['jwks-file']),
          jwksUri: orNull(values['jwks-uri']),
          tokenEndpointAuthMethod: orNull(values['token-endpoint-auth-method']),
          clientName: orNull(values.name),
          logoUri: orNull(values['logo-uri'])
        })
        return { ...toClientView(client), ...(secret === undefined ? {} : { client_secret: secret }) }
      }
    }),
    command({
      name: 'list',
      operations: ['listClients'],
      summary: 'the clients as a JSON array (never a secret)',
      usage: [''],
      positionals: false,
      flags: {},
      async run (_input, { storage }) {
        return (await (await storage()).clients.list({ limit: 1_000_000, offset: 0 })).map(toClientView)
      }
    }),
    command({
      name: 'remove',
      operations: ['deleteClient'],
      summary: 'delete a client and print it; its tokens stop working (re-creating the id brings none back)',
      usage: ['CLIENT_ID'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { clock, config, storage }) {
        const id = one(positionals, 'CLIENT_ID')
        return toClientView(await deleteClient({ storage: await storage(), clock, config }, id))
      }
    })
  ]
}
