import type { FastifyPluginAsync } from 'fastify'
import { ASSET_CACHE_CONTROL, assetFile } from '../../lib/browser/assets.js'
import { NoSuchEndpointError } from '../../lib/errors.js'
import { assetSchema } from '../../schemas/passkeys.js'

/**
 * GET /assets/{file}: the pages' scripts (lib/browser/assets.ts), served from here so no page loads anything from a
 * third party. Outside the browser pages' context: no cookies are read or set, and the answer may be cached.
 */
const assets: FastifyPluginAsync = async (fastify) => {
  fastify.get('/assets/:file', { schema: assetSchema }, async (request, reply) => {
    const asset = assetFile((request.params as { file: string }).file)
    if (!asset) throw new NoSuchEndpointError()
    return reply.header('content-type', asset.type).header('cache-control', ASSET_CACHE_CONTROL).header('x-content-type-options', 'nosniff').send(asset.body)
  })
}

export default assets
