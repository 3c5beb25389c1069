import fp from 'fastify-plugin'
import cluster from 'node:cluster'
import type { FastifyRequest } from 'fastify'
import { deploymentNamespace } from '../lib/config.js'
import type { DpopProof } from '../lib/oauth/dpop-proof.js'
import { acceptProof, proofTarget } from '../lib/oauth/dpop-resource.js'
import { DpopNonces, UseDpopNonce } from '../lib/oauth/dpop-nonces.js'
import { MemoryProofReplay, RedisProofReplay, type ProofReplay } from '../lib/oauth/dpop-replay.js'
import { ClusterProofReplay } from '../lib/oauth/cluster-proof-replay.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** DPoP proofs (RFC 9449) as every endpoint checks them: the proof's rules, the server's nonce, then its jti seen once. */
    dpop: DpopProofs
  }
}

export interface DpopCheckOptions {
  /** The access token presented with the proof at a resource (`ath`, §4.3 point 11). */
  accessToken?: string
  /** Whether the proof must carry a current server nonce (§8, §9); default: DPOP_NONCES=on. */
  requireNonce?: boolean
}

export interface DpopProofs {
  /**
   * The request's DPoP proof, checked (lib/oauth/dpop-proof.ts) against this request, its nonce (when required) and
   * its `jti` recorded so the same proof is refused the next time (§11.1); undefined when the request has no DPoP
   * header. Throws InvalidDpopProof, UseDpopNonce (carrying the nonce to send back in `DPoP-Nonce`), or
   * ProofReplayFull (lib/oauth/dpop-replay.ts: 503).
   */
  check: (request: FastifyRequest, options?: DpopCheckOptions) => Promise<DpopProof | undefined>
  /** Whether nonces are required by default (DPOP_NONCES=on). */
  readonly noncesRequired: boolean
  /** The nonce to send in `DPoP-Nonce` now (§8.2: also on successful replies, so the client has the next one). */
  nonce: () => string
}

/**
 * The replay memory: with REDIS_URL, Redis (a proof sent to two instances at once is accepted by one), the local
 * memory while Redis is away; without it, the local memory. "Local" is this process's memory, or in a WORKERS
 * process the primary's, which every worker of the machine shares (lib/oauth/cluster-proof-replay.ts).
 */
export default fp(async (fastify) => {
  const { config, clock, redis, signingKeys } = fastify
  const local = cluster.isWorker ? new ClusterProofReplay() : new MemoryProofReplay(clock)
  if (local instanceof ClusterProofReplay) fastify.addHook('onClose', async () => local.close())
  const replay: ProofReplay = redis
    ? new RedisProofReplay(redis, deploymentNamespace(config), local, (message, err) => fastify.log.warn({ err }, message), clock)
    : local
  const nonces = new DpopNonces(() => signingKeys.current().published)
  const noncesRequired = config.dpopNonces

  const dpop: DpopProofs = {
    noncesRequired,
    nonce: () => nonces.current(clock.now()),
    async check (request, options = {}) {
      const now = clock.now()
      // ISSUER names the URL (never the Host header); the proof's rules, then (§8.1, §9) the server's nonce, checked
      // before the jti is recorded (the client's retry with the nonce is a new proof anyway), then the jti seen once (§11.1).
      const requireNonce = options.requireNonce ?? noncesRequired
      return await acceptProof(request.headers.dpop, { method: request.method, url: proofTarget(config.issuer, request.url), now, accessToken: options.accessToken }, replay, (proof) => {
        if (requireNonce && (proof.nonce === undefined || !nonces.accepts(proof.nonce, now))) {
          throw new UseDpopNonce(nonces.current(now), proof.nonce === undefined ? 'the DPoP proof has no nonce' : 'the DPoP proof\'s nonce is not a current one')
        }
      })
    }
  }
  fastify.decorate('dpop', dpop)
}, { name: 'dpop', dependencies: ['config', 'clock', 'redis', 'signing-keys'] })
