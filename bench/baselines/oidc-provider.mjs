/**
 * Baseline: node-oidc-provider (npm `oidc-provider`) set up for the two things Gatehouse is compared on:
 * the client_credentials grant (client_secret_basic) and introspection (RFC 7662, at its default path
 * /token/introspection). Everything else is its defaults: opaque access tokens kept by its in-memory
 * adapter, no request logging. The runner passes PORT and the client secrets in the environment.
 */
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import Provider from 'oidc-provider'

const port = Number(process.env.PORT ?? 3101)
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    // the service that asks for tokens, and the resource server that introspects them
    { client_id: 'bench-svc', client_secret: process.env.SVC_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'orders:read' },
    { client_id: 'bench-rs', client_secret: process.env.RS_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }
  ],
  scopes: ['orders:read'],
  clientDefaults: { id_token_signed_response_alg: 'ES256' }, // its default is RS256; this key is EC
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'bench' }] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // Same policy as the default (any confidential client may introspect), stated so it does not warn.
    introspection: { enabled: true, allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client.clientId }
  },
  // Gatehouse's tokens live 900 s by default; the bench runs for longer than oidc-provider's 600 s default.
  ttl: { ClientCredentials: () => 3600 }
})

createServer(provider.callback()).listen(port, '127.0.0.1')
