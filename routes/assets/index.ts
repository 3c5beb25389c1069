import type { FastifyPluginAsync } from 'fastify'
import { ASSET_CACHE_CONTROL, assetFile } from '../../lib/browser/assets.js'
import { OPERATOR_ASSET_CACHE_CONTROL, OPERATOR_ASSET_CSP } from '../../lib/browser/operator-assets.js'
import { NoSuchEndpointError } from '../../lib/errors.js'
import { assetSchema } from '../../schemas/passkeys.js'

/**
 * GET /assets/{file}: the pages' scripts (lib/browser/assets.ts), then the operator's files (ASSETS_DIR), served from here so no page loads anything from a
 * third party. Outside the browser pages' context: no cookies are read or set, and the answer may be cached.
 */
const assets: FastifyPluginAsync = async (fastify) => {
  fastify.get('/assets/:file', { schema: assetSchema }, async (request, reply) => {
    const file = (request.params as { file: string }).file
    const asset = assetFile(file)
    if (!asset) {
      // The operator's files (ASSETS_DIR, lib/browser/operator-assets.ts): a map read at start, never a path.
      const own = fastify.operatorAssets.files.get(file)
      if (!own) throw new NoSuchEndpointError()
      return reply.header('content-type', own.type).header('cache-control', OPERATOR_ASSET_CACHE_CONTROL).header('x-content-type-options', 'nosniff')
        .header('content-security-policy', OPERATOR_ASSET_CSP).send(own.body)
    }
    return reply.header('content-type', asset.type).header('cache-control', ASSET_CACHE_CONTROL).header('x-content-type-options', 'nosniff').send(asset.body)
  })
}

export default assets
