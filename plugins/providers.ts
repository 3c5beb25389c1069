import fp from 'fastify-plugin'
import {
  createProvider, deleteProvider, getProvider, listProviders, updateProvider,
  type CheckedProviderView, type ProviderEndpoints, type ProviderInput, type ProviderPatchInput, type ProviderView
} from '../lib/admin/providers.js'
import { UpstreamClients } from '../lib/upstream/client.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Upstream providers (issue 14): the same administration the admin API and the CLI do
     * (lib/admin/providers.ts; views never hold the secret), and `upstream`, the openid-client
     * side with each provider's discovered configuration cached.
     */
    providers: {
      add (input: ProviderInput): Promise<CheckedProviderView>
      list (): Promise<ProviderView[]>
      get (name: string): Promise<ProviderView>
      update (name: string, patch: ProviderPatchInput): Promise<CheckedProviderView>
      remove (name: string): Promise<ProviderView>
      readonly upstream: UpstreamClients
    }
  }
}

export default fp(async (fastify) => {
  const { storage, config, clock } = fastify
  const upstream = new UpstreamClients({ issuer: config.issuer, timeoutMs: config.upstreamTimeoutMs, nowMs: () => clock.nowMs() })
  // A checkDiscovery input reads the document now, as a sign-in would (UpstreamClients.check: never the cache).
  const deps = { storage, config, discover: (provider: ProviderEndpoints) => upstream.check(provider) }
  fastify.decorate('providers', {
    add: (input: ProviderInput) => createProvider(deps, input),
    list: () => listProviders(deps),
    get: (name: string) => getProvider(deps, name),
    update: (name: string, patch: ProviderPatchInput) => updateProvider(deps, name, patch),
    remove: (name: string) => deleteProvider(deps, name),
    upstream
  })
}, { name: 'providers', dependencies: ['config', 'clock', 'storage'] })
