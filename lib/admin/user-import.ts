import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { bodyTooLarge, GatehouseError } from '../errors.js'
import { checkHash } from '../credentials/password-formats.js'
import { hashLimits, type HashLimits } from '../credentials/hash-limits.js'
import { argon2Params, UNUSABLE_PASSWORD } from '../credentials/passwords.js'
import { formatScope, parseScope } from '../oauth/scopes.js'
import type { ImportedUser, Storage, User, UserClaims } from '../stores/types.js'
import { Scope, USERNAME, USERNAME_PATTERN } from '../../schemas/common.js'
import { checkUserInput, endUserSessions } from './users.js'
import { checkUserClaims, claimsView } from './user-claims.js'

/**
 * Moving users in and out as JSON Lines, one user a line (CONTRACT.md, `users import` / `users export`):
 *
 *   {"username": "alice", "password_hash": "$2b$12$…", "full_name": "Alice", "email": "a@x.test",
 *    "scope": "read write", "disabled": false, "sub": "5f0c…", "claims": {"given_name": "Alice", "locale": "en-GB"}}
 *
 * `username` and `password_hash` are required (`null` for a user without a password); the hash is kept
 * as it is, in any format lib/credentials/password-formats.ts accepts, and becomes Gatehouse's argon2id at the user's
 * first sign-in. `sub` (optional, a UUID) keeps the subject a user had in another Gatehouse or in
 * Keycloak, so tokens' `sub` survives the move. Shared by the CLI and `POST /admin/users/import`.
 *
 * How an import behaves:
 * - streaming: lines are read, checked and written a batch at a time; memory holds one batch, plus the
 *   usernames seen so far (to refuse a username given twice);
 * - per line: a line that does not parse, lacks a username or hash, has an unknown hash format, a hash
 *   costlier than a sign-in may spend (lib/credentials/hash-limits.ts) or a bad field is rejected whole, with
 *   its line number and a reason; the other lines go on;
 * - idempotent: a username already present is skipped (counted), never overwritten unless `update`; a
 *   username that belongs to a user an upstream provider created is rejected, with or without `update`;
 * - each batch is one transaction, so an import that is interrupted (Ctrl-C, SIGKILL, a lost database)
 *   leaves whole batches behind, and running it again skips them and imports the rest: no duplicate,
 *   no lost line. Every answer says how far it got: `committed_lines`, and `resume_from_line` when it
 *   stopped before the end (ImportStopped, ImportInterrupted).
 */

export interface ImportOptions {
  /** Existing usernames take the line's values (the fields it names) instead of being skipped. */
  update?: boolean
  /** Lines per transaction. */
  batchSize?: number
  /** A longer line is rejected (it is not held in memory whole). */
  maxLineBytes?: number
  /** Past this many bytes the import stops with a 413 (the HTTP body limit); batches before it stay. */
  maxBytes?: number
  /** How many rejected lines the summary lists; `rejected_count` counts them all. */
  listRejected?: number
  /** Called after every batch. */
  onProgress?: (progress: ImportProgress) => void
  /** When aborted, the import stops after the batch in flight and throws ImportInterrupted. */
  signal?: AbortSignal
}

export interface ImportProgress {
  /** Lines read so far (blank lines included). */
  lines: number
  bytes: number
  imported: number
  updated: number
  skipped: number
  rejected: number
}

export interface Rejection { line: number, reason: string }

/** What an import prints (CONTRACT.md): `{"imported":N,"skipped":N,"rejected":[{line, reason}]}`, plus counts. */
export interface ImportSummary {
  imported: number
  updated: number
  skipped: number
  rejected: Rejection[]
  rejected_count: number
  /** Lines from the first whose outcome is in the database (blank and rejected lines among them). */
  committed_lines: number
  /** The first line not in the database yet when the import stopped before the end; null when it finished. */
  resume_from_line: number | null
}

/** The summary of an import that never began (no body): nothing read, nothing written, resume from the first line. */
export const NOTHING_IMPORTED: Readonly<ImportSummary> = Object.freeze({ imported: 0, updated: 0, skipped: 0, rejected: [], rejected_count: 0, committed_lines: 0, resume_from_line: 1 })

/** Where an import that stopped part-way got to, in words (the CLI's one line on standard error). */
const whereStopped = (committed: number) =>
  `committed_lines ${committed}, resume_from_line ${committed + 1}: every line before it is in the database`

export class ImportInterrupted extends Error {
  override name = 'ImportInterrupted'
  constructor (readonly progress: ImportProgress) {
    super(`interrupted after line ${progress.lines} (${progress.imported} imported, ${progress.skipped} skipped, ${progress.rejected} rejected); ` +
      `${whereStopped(progress.lines)}: run the same import again to finish it`)
  }
}

/**
 * An import that stopped part-way (a body over the limit, the database gone, any other failure): the answer
 * of what stopped it (its status, code and headers; a generic 500 for an unexpected failure), with the summary
 * of the batches committed before it, so the caller knows where to resume. The description stays the cause's;
 * the message (the CLI's line) adds where it stopped.
 */
export class ImportStopped extends GatehouseError {
  readonly error: string
  override name = 'ImportStopped'
  constructor (readonly stoppedBy: unknown, readonly summary: ImportSummary) {
    const known = stoppedBy instanceof GatehouseError ? stoppedBy : undefined
    const message = stoppedBy instanceof Error ? stoppedBy.message : String(stoppedBy)
    super(`${message.split('\n')[0]}; ${whereStopped(summary.committed_lines)}: send the lines from there again (or the whole input: the import is idempotent)`,
      known?.statusCode ?? 500, known?.headers ?? {}, { cause: stoppedBy })
    this.error = known?.error ?? 'server_error'
  }

  override body () {
    // An unexpected failure's detail goes to the log (the route's), never into the answer.
    const description = this.stoppedBy instanceof GatehouseError ? this.stoppedBy.message : 'an unexpected error occurred'
    return { error: this.error, error_description: description, ...this.summary }
  }
}

export const IMPORT_DEFAULTS = { batchSize: 5000, maxLineBytes: 64 * 1024, listRejected: 1000 }

/** The fields a line may carry. */
const FIELDS = new Set(['username', 'password_hash', 'full_name', 'email', 'scope', 'disabled', 'sub', 'claims'])
const SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const MAX_SCOPE_LENGTH = Scope.maxLength ?? 2048

/**
 * One line's user, or why it is rejected. The reason names fields, never their values (a hash stays unquoted).
 * `limits`: what a sign-in may spend on the hash (from the configured argon2 cost).
 */
export function parseImportLine (text: string, limits: HashLimits): ImportedUser | string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return 'not valid JSON'
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object'
  const line = value as Record<string, unknown>
  for (const key of Object.keys(line)) if (!FIELDS.has(key)) return `unknown field ${JSON.stringify(key.slice(0, 40))}`

  const { username, password_hash: hash, full_name: fullName, email, scope, disabled, sub, claims } = line
  if (username === undefined) return 'missing username'
  if (typeof username !== 'string' || !USERNAME.test(username)) return `username: must match ${USERNAME_PATTERN} (lowercase)`
  if (hash === undefined) return 'missing password_hash'
  if (hash !== null) {
    if (typeof hash !== 'string') return 'password_hash: must be a string, or null for a user without a password'
    // A user of an upstream provider (its export carries the unusable marker, which no password matches).
    const info = [UNUSABLE_PASSWORD].includes(hash) ? undefined : checkHash(hash, limits)
    if (info !== undefined && 'error' in info) return `password_hash: ${info.error}`
  }
  if (fullName !== undefined && fullName !== null && typeof fullName !== 'string') return 'full_name: must be a string or null'
  if (email !== undefined && email !== null && typeof email !== 'string') return 'email: must be a string or null'
  if (scope !== undefined && typeof scope !== 'string') return 'scope: must be a string'
  if (typeof scope === 'string' && scope.length > MAX_SCOPE_LENGTH) return `scope: longer than ${MAX_SCOPE_LENGTH} characters`
  if (disabled !== undefined && typeof disabled !== 'boolean') return 'disabled: must be true or false'
  if (sub !== undefined && (typeof sub !== 'string' || !SUB.test(sub))) return 'sub: must be a lowercase UUID'
  let checkedClaims: UserClaims | undefined
  try {
    checkUserInput({ fullName, email, scope })
    if (claims !== undefined) checkedClaims = checkUserClaims(claims)
  } catch (err) {
    return (err as Error).message
  }
  const user: ImportedUser = { username, passwordHash: hash }
  if (checkedClaims !== undefined) user.claims = checkedClaims
  if (fullName !== undefined) user.fullName = fullName
  if (email !== undefined) user.email = email
  if (scope !== undefined) user.scope = formatScope(parseScope(scope))
  if (disabled !== undefined) user.disabled = disabled
  if (sub !== undefined) user.id = sub
  return user
}

interface Line { number: number, text?: string, error?: string }

/**
 * Splits a byte stream into lines (LF or CRLF), in arrays per chunk.
 * A line longer than `maxLineBytes` is reported as an error without being kept; so is one that is not UTF-8.
 */
async function * readLines (source: AsyncIterable<Uint8Array | string>, maxLineBytes: number, counter: { bytes: number, maxBytes: number }): AsyncGenerator<Line[]> {
  // fatal: a line that is not UTF-8 is rejected rather than imported with U+FFFD in it. ignoreBOM: every
  // line is decoded on its own, and a BOM is dropped from the first line only (by the caller).
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  let parts: Buffer[] = []
  let partLength = 0
  let tooLong = false
  let number = 0
  const finish = (bytes: Buffer): Line => {
    number++
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length
    if (tooLong || end > maxLineBytes) return { number, error: `longer than ${maxLineBytes} bytes` }
    try {
      return { number, text: decoder.decode(bytes.subarray(0, end)) }
    } catch {
      return { number, error: 'not valid UTF-8' }
    }
  }
  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
    counter.bytes += chunk.length
    if (counter.bytes > counter.maxBytes) throw bodyTooLarge(counter.maxBytes)
    const lines: Line[] = []
    let start = 0
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl)
      if (!tooLong && partLength + piece.length > maxLineBytes + 1) tooLong = true
      let bytes = piece
      if (parts.length > 0) bytes = tooLong ? piece : Buffer.concat([...parts, piece])
      lines.push(finish(bytes))
      parts = []
      partLength = 0
      tooLong = false
      start = nl + 1
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start)
      partLength += rest.length
      if (partLength > maxLineBytes + 1) { tooLong = true; parts = [] } else parts.push(Buffer.from(rest))
    }
    if (lines.length > 0) yield lines
  }
  if (partLength > 0 || tooLong) yield [finish(Buffer.concat(parts))]
}

export interface ImportDeps {
  storage: Storage
  clock: Clock
  config: Pick<Config, 'accessTokenTtl' | 'argon2MemoryKib' | 'argon2TimeCost' | 'argon2Parallelism'>
}

/** Imports the JSON Lines of `source` (a file, stdin, a request body). See the top of this file. */
export async function importUsers (deps: ImportDeps, source: AsyncIterable<Uint8Array | string>, options: ImportOptions = {}): Promise<ImportSummary> {
  const { storage, clock, config } = deps
  const update = options.update ?? false
  const batchSize = options.batchSize ?? IMPORT_DEFAULTS.batchSize
  const listRejected = options.listRejected ?? IMPORT_DEFAULTS.listRejected
  const limits = hashLimits(argon2Params(config))
  const counter = { bytes: 0, maxBytes: options.maxBytes ?? Infinity }
  const progress: ImportProgress = { lines: 0, bytes: 0, imported: 0, updated: 0, skipped: 0, rejected: 0 }
  const rejected: Rejection[] = []
  const reject = (line: number, reason: string) => {
    progress.rejected++
    if (rejected.length < listRejected) rejected.push({ line, reason })
  }
  const usernames = new Set<string>()
  const subs = new Set<string>()
  let batch: Array<{ line: number, user: ImportedUser }> = []
  let linesInBatch = 0
  /** progress.rejected as of the last committed batch (later rejections belong to lines not committed yet). */
  let committedRejected = 0

  const flush = async () => {
    if (batch.length > 0) {
      const outcomes = await storage.users.importBatch(batch.map((b) => b.user), { update })
      for (const [i, result] of outcomes.entries()) {
        if (result.outcome === 'created') progress.imported++
        else if (result.outcome === 'skipped') progress.skipped++
        else if (result.outcome === 'updated') {
          progress.updated++
          // An admin change like any other: a new password or disabling ends the user's sessions and tokens.
          if (result.revoke) await endUserSessions({ storage, clock, config }, result.id)
        } else if (result.outcome === 'created-by-provider') {
          // A user an upstream provider created took this username first: merging the line into it would hand
          // that provider account the imported user's password, scopes and subject.
          reject(batch[i]!.line, `username: belongs to a user created by a sign-in through an upstream provider (${result.createdBy}); ` +
            'an import never merges into one: give this line another username')
        } else reject(batch[i]!.line, 'sub: belongs to another user, or this username exists with another sub')
      }
    }
    progress.lines += linesInBatch
    committedRejected = progress.rejected
    progress.bytes = counter.bytes
    batch = []
    linesInBatch = 0
    options.onProgress?.({ ...progress })
    if (options.signal?.aborted) throw new ImportInterrupted({ ...progress })
    // Let the event loop breathe between batches: a server importing keeps answering other requests.
    await nextTurn()
  }

  /** What is in the database so far; `finished`: the whole input was read and committed. */
  const summary = (finished: boolean): ImportSummary => ({
    imported: progress.imported,
    updated: progress.updated,
    skipped: progress.skipped,
    rejected: (finished ? rejected : rejected.filter((r) => r.line <= progress.lines)).sort((a, b) => a.line - b.line),
    rejected_count: finished ? progress.rejected : committedRejected,
    committed_lines: progress.lines,
    resume_from_line: finished ? null : progress.lines + 1
  })

  try {
    await readAll()
  } catch (err) {
    // The caller may end the source when it interrupts (a Ctrl-C while waiting for input): say so, not "premature close".
    if (options.signal?.aborted && !(err instanceof ImportInterrupted)) throw new ImportInterrupted({ ...progress })
    if (err instanceof ImportInterrupted) throw err
    throw new ImportStopped(err, summary(false))
  }
  return summary(true)

  async function readAll (): Promise<void> {
    for await (const lines of readLines(source, options.maxLineBytes ?? IMPORT_DEFAULTS.maxLineBytes, counter)) {
      for (const line of lines) {
        linesInBatch++
        if (line.error !== undefined) { reject(line.number, line.error); continue }
        let text = line.text!
        if (line.number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
        if (text.trim() === '') continue
        const user = parseImportLine(text, limits)
        if (typeof user === 'string') { reject(line.number, user); continue }
        if (usernames.has(user.username)) { reject(line.number, 'username: given on an earlier line too'); continue }
        if (user.id !== undefined && subs.has(user.id)) { reject(line.number, 'sub: given on an earlier line too'); continue }
        usernames.add(user.username)
        if (user.id !== undefined) subs.add(user.id)
        batch.push({ line: line.number, user })
        if (batch.length >= batchSize) await flush()
      }
      // Rejected and blank lines count as read in the batch they arrive with; a stream of nothing else still reports.
      if (linesInBatch >= batchSize) await flush()
    }
    await flush()
  }
}

/** One user as an export line: every field, the hash as stored, so importing it elsewhere loses nothing. */
export function exportLine (user: User): string {
  return JSON.stringify({
    username: user.username,
    password_hash: user.passwordHash,
    full_name: user.fullName,
    email: user.email,
    scope: user.scope,
    disabled: user.disabled,
    sub: user.id,
    // Only when the user has some: an import without `claims` keeps what a user holds.
    claims: Object.keys(claimsView(user)).length > 0 ? claimsView(user) : undefined
  })
}

/** Every user, in username order, as export lines: paged through the store, so memory holds one page. */
export async function * exportUsers (storage: Storage, pageSize = 1000): AsyncGenerator<string> {
  let after: string | null = null
  for (;;) {
    const users: User[] = await storage.users.listAfter(after, pageSize)
    for (const user of users) yield exportLine(user)
    if (users.length < pageSize) return
    after = users[users.length - 1]!.username
  }
}
