import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Readable } from 'node:stream'
import { bodyTooLarge, invalidInput } from '../../lib/errors.js'
import { importUsers, ImportStopped, NOTHING_IMPORTED } from '../../lib/admin/user-import.js'
import { adminSecurity, IMPORT_MEDIA_TYPES, ImportLine, importErrors, ImportQuery, ImportSummary } from '../../schemas/admin.js'

/** Lines per transaction here: short enough that a server importing keeps answering everything else. */
const HTTP_BATCH_SIZE = 500

/**
 * POST /admin/users/import (scope admin): the CLI's `users import` for operators without shell access. The
 * JSON Lines body is streamed, never held whole: it is read a batch at a time as it arrives, up to
 * IMPORT_MAX_BYTES. A plugin of its own, so that its body parser (the raw stream) serves this route only.
 */
const userImportRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, config } = fastify
  fastify.requireAdmin(fastify)
  // Only JSON Lines here (anything else is 415). The parser hands the unread stream over: the body is read
  // by the import itself, after authentication, and a declared length over the limit is refused at once.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser(IMPORT_MEDIA_TYPES, (request, payload, done) => {
    if (Number(request.headers['content-length']) > config.importMaxBytes) done(bodyTooLarge(config.importMaxBytes), undefined)
    else done(null, payload)
  })

  fastify.post('/admin/users/import', {
    schema: {
      tags: ['admin'],
      operationId: 'importUsers',
      summary: 'Import users with their password hashes (JSON Lines: bcrypt, argon2, PBKDF2 as passlib or Django)',
      description: 'One user a line, as `gatehouse users import` reads and `gatehouse users export` writes. Each line is imported ' +
        'or rejected whole; a username already present is skipped (or, with update=true, updated); batches are committed as ' +
        'the body arrives, so sending the same file again after a failure finishes it without duplicates. Every answer, an ' +
        'error part-way included, says how many lines are in the database (committed_lines) and where to resume (resume_from_line).',
      security: adminSecurity,
      querystring: ImportQuery,
      response: { 200: ImportSummary, ...importErrors }
    },
    config: {
      // The body is a stream, validated line by line by the import: it is described here, not given to Ajv.
      swaggerTransform: ({ schema, url }) => ({
        schema: { ...schema, body: { content: Object.fromEntries(IMPORT_MEDIA_TYPES.map((type) => [type, { schema: ImportLine }])) } },
        url
      })
    }
  }, async (request) => {
    const body = request.body as Readable | undefined
    if (body === undefined || body === null) {
      throw new ImportStopped(invalidInput(`send the users as JSON Lines (Content-Type ${IMPORT_MEDIA_TYPES[0]})`), NOTHING_IMPORTED)
    }
    // An import changes many users: its target is the whole set.
    request.adminTarget = 'users'
    try {
      return await importUsers({ storage, clock, config }, body, { update: request.query.update, maxBytes: config.importMaxBytes, batchSize: HTTP_BATCH_SIZE })
    } catch (err) {
      // The answer names the cause and where to resume; the log keeps the cause's detail (an unexpected one in full).
      if (err instanceof ImportStopped) {
        const where = { committedLines: err.summary.committed_lines, err: err.stoppedBy }
        if (err.statusCode >= 500 && err.statusCode !== 503) request.log.error(where, 'import stopped by an unexpected error')
        else request.log.warn(where, 'import stopped part-way')
      }
      throw err
    }
  })
}

export default userImportRoutes
