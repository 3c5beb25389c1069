import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/**
 * Sealing small secrets at rest (a TOTP app's shared secret): AES-256-GCM with a random 96-bit IV per value, so a
 * database dump without SECRETS_KEY reveals nothing and a changed byte fails to open. Sealed text:
 * `v1.<base64url(iv | ciphertext | tag)>`; the version prefix leaves room for a key rotation later. The associated
 * data binds a value to where it belongs (e.g. the factor's id and user), so a sealed secret copied onto another
 * user's row does not open there.
 */
export interface SecretBox {
  seal (plaintext: string, context: string): string
  /** The plaintext, or undefined when the value was not sealed with this key for this context (or was altered). */
  open (sealed: string, context: string): string | undefined
}

const VERSION = 'v1.'
const IV_BYTES = 12
const TAG_BYTES = 16

export function secretBox (key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('a secrets key is 32 bytes')
  return {
    seal (plaintext, context) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return VERSION + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
    },
    open (sealed, context) {
      if (!sealed.startsWith(VERSION)) return undefined
      const raw = Buffer.from(sealed.slice(VERSION.length), 'base64url')
      if (raw.length < IV_BYTES + TAG_BYTES) return undefined
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES))
        decipher.setAAD(Buffer.from(context, 'utf8'))
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES))
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8')
      } catch {
        return undefined
      }
    }
  }
}

/** SECRETS_KEY's text (64 hex digits or 43 base64url characters: the config schema's pattern) as its 32 bytes. */
export function parseSecretsKey (text: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64url')
}

/** The file a generated key is kept in: beside the SQLite database, so it travels with it (and not inside it). */
export const secretsKeyFile = (sqlitePath: string): string => join(dirname(resolve(sqlitePath)), 'secrets.key')

/**
 * The key that seals secrets: SECRETS_KEY when set; with SQLite, the key in `secrets.key` beside the database,
 * made on first use (owner-only; `wx` so two processes starting at once keep one key: the loser reads the
 * winner's); a random one for `sqlite::memory:` (its data dies with the process anyway). Undefined with
 * PostgreSQL and no SECRETS_KEY: every instance must hold the same key, which no single file can promise.
 */
export function resolveSecretsKey (config: { secretsKey?: string | undefined, databaseUrl: string }): Buffer | undefined {
  if (config.secretsKey !== undefined) return parseSecretsKey(config.secretsKey)
  if (!config.databaseUrl.startsWith('sqlite:')) return undefined
  const path = config.databaseUrl.slice('sqlite:'.length)
  if (path === ':memory:') return randomBytes(32)
  const file = secretsKeyFile(path)
  try {
    return parseSecretsKey(readFileSync(file, 'utf8').trim())
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dirname(file), { recursive: true })
  // Written whole under a name of its own, then linked into place: link() fails if the name exists, so a process
  // starting at the same moment never reads a half-written key, and both end with the first one linked.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(draft, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 })
  try {
    chmodSync(draft, 0o600)
    linkSync(draft, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    rmSync(draft, { force: true })
  }
  return parseSecretsKey(readFileSync(file, 'utf8').trim())
}
