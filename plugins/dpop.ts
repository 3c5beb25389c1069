import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { checkDpopProof, InvalidDpopProof, PROOF_JTI_LIFETIME_SECONDS, type DpopProof } from '../lib/oauth/dpop-proof.js'
import { MemoryProofReplay, type ProofReplay } from '../lib/oauth/dpop-replay.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** DPoP proofs (RFC 9449) as every endpoint checks them: the proof's rules, then its jti seen once. */
    dpop: DpopProofs
  }
}

export interface DpopProofs {
  /**
   * The request's DPoP proof, checked (lib/oauth/dpop-proof.ts) against this request, its `jti` recorded so the same
   * proof is refused the next time (§11.1); undefined when the request has no DPoP header. Throws InvalidDpopProof.
   * `accessToken`: the token presented with it at a resource (`ath`).
   */
  check: (request: FastifyRequest, options?: { accessToken?: string }) => Promise<DpopProof | undefined>
}

/** The URL a request reached, as this server is named (ISSUER), never from its Host header: what `htu` must name. */
export function requestUrl (issuer: string, request: Pick<FastifyRequest, 'url'>): string {
  const path = request.url.split(/[?#]/, 1)[0] ?? '/'
  return `${issuer.replace(/\/$/, '')}${path}`
}

export default fp(async (fastify) => {
  const { config, clock } = fastify
  const replay: ProofReplay = new MemoryProofReplay(clock)

  const dpop: DpopProofs = {
    async check (request, options = {}) {
      const header = request.headers.dpop
      if (header === undefined) return undefined
      // §4.3 point 1: exactly one DPoP header (Node joins repeated ones with ", ").
      if (Array.isArray(header) || header.includes(',')) throw new InvalidDpopProof('the request has more than one DPoP proof')
      const proof = checkDpopProof(header, { method: request.method, url: requestUrl(config.issuer, request), now: clock.now(), accessToken: options.accessToken })
      // §11.1: the jti, within the key's proofs, is accepted once in the window the proof is valid for.
      if (!await replay.firstUse(`${proof.jkt}:${proof.jti}`, PROOF_JTI_LIFETIME_SECONDS)) throw new InvalidDpopProof('the DPoP proof was used before (jti)')
      return proof
    }
  }
  fastify.decorate('dpop', dpop)
}, { name: 'dpop', dependencies: ['config', 'clock'] })
