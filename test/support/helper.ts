import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fp from 'fastify-plugin'
import app from '../../app.js'
import type { AppOptions } from '../../lib/http/app-options.js'
import type { Clock } from '../../lib/clock.js'
import { loadConfig } from '../../lib/config.js'
import { baseOptions, configuredOptions } from '../../lib/http/server-options.js'
import { generateKeyPairSync } from 'node:crypto'

export const ISSUER = 'http://gatehouse.test'

/**
 * A fixed SECRETS_KEY, so a PostgreSQL run (where no key is generated) and the CLI it spawns seal and open
 * second-factor secrets alike. A test of the keyless case passes SECRETS_KEY: '' (an empty variable is unset).
 */
export const TEST_SECRETS_KEY = '8d6f3bb2c1f0e4a7d95c2b6e0f1a3c5e7d9b1f3a5c7e9d0b2f4a6c8e0d2f4a6c'

/**
 * The environment every test app and process starts from: cheap argon2 parameters (one test,
 * test/lib/credentials/passwords.test.ts, runs the production ones) and TEST_SECRETS_KEY.
 */
export const FAST_HASH = { ARGON2_MEMORY_KIB: '64', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '1', SECRETS_KEY: TEST_SECRETS_KEY }

/** A SQLite file in a fresh temp directory, removed when the test ends. */
export function tempDatabaseUrl (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return `sqlite:${join(dir, 'gatehouse.db')}`
}

/**
 * Which backend app-level tests run on: SQLite by default; the files listed in test/postgres/list.ts run again
 * with GATEHOUSE_TEST_BACKEND=postgres (through wrappers npm test writes into dist/test/postgres/).
 */
export const testBackend = process.env.GATEHOUSE_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite'

/** A fresh database on the test backend: a temp SQLite file, or a PostgreSQL schema of its own, already migrated. */
export async function freshDatabase (t: Test): Promise<{ url: string, drop: () => Promise<void> }> {
  if (testBackend === 'sqlite') return { url: tempDatabaseUrl(t), drop: async () => {} }
  const { createMigratedTestSchema } = await import('./pg-schema.js')
  return createMigratedTestSchema()
}

/**
 * A database on the test backend that several apps and CLI runs of one test share (their `DATABASE_URL`), removed
 * when the test ends: after the apps built later have closed, as tap runs teardowns last-in, first-out.
 */
export async function sharedDatabaseUrl (t: Test): Promise<string> {
  const database = await freshDatabase(t)
  t.teardown(database.drop)
  return database.url
}

/**
 * Builds the app as a test sees it: a fresh database on the test backend (or `env.DATABASE_URL`), a
 * fixed issuer, fast hashing, no logger; closed (and its database dropped) when the test ends.
 */
/**
 * One RSA private key per test process for the first RS256 key of every app's fresh store (AppOptions.initialKeyMaterial):
 * generating one costs ~100-300 ms, and a test file may build dozens of apps. Rotations still generate new keys.
 */
let sharedRsaKey: string | undefined
export function testKeyMaterial (): NonNullable<AppOptions['initialKeyMaterial']> {
  sharedRsaKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  return { RS256: sharedRsaKey }
}

export async function build (t: Test, env: Record<string, string> = {}, options: Omit<AppOptions, 'env'> = {}): Promise<FastifyInstance> {
  const database = env.DATABASE_URL ? { url: env.DATABASE_URL, drop: async () => {} } : await freshDatabase(t)
  const fullEnv = { ISSUER, ...FAST_HASH, ...env, DATABASE_URL: database.url }
  const fastify = Fastify({ logger: false, ...baseOptions, ...configuredOptions(loadConfig(fullEnv)) })
  t.teardown(async () => {
    await fastify.close()
    await database.drop()
  })
  await fastify.register(fp(app), {
    initialKeyMaterial: testKeyMaterial(),
    ...options,
    env: fullEnv
  })
  await fastify.ready()
  return fastify
}

/** Creates a user straight through the stores (the CLI and admin API have their own tests). */
export async function addUser (app: FastifyInstance, username: string, password: string, extra: { scope?: string, disabled?: boolean, fullName?: string, email?: string } = {}) {
  return app.users.create({ username, passwordHash: await app.passwords.hash(password), ...extra })
}

export function form (fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString()
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** Registers a client straight through the service the CLI and admin API use; returns its secret. */
export async function addClient (app: FastifyInstance, id: string, input: { isPublic?: boolean, grantTypes: string[], scope?: string | null, redirectUris?: string[] }): Promise<string | undefined> {
  const { createClient } = await import('../../lib/admin/clients.js')
  const { secret } = await createClient(app.storage, id, { isPublic: input.isPublic ?? false, grantTypes: input.grantTypes, scope: input.scope ?? null, redirectUris: input.redirectUris ?? [] })
  return secret
}

export function basic (id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')
}

/** POST a form to an OAuth endpoint. */
export function post (app: FastifyInstance, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: form(fields) })
}

/**
 * A free TCP port on loopback, for a server that must know its port before it listens (its ISSUER names it).
 * Between this check and the listen the port is anyone's, so it is drawn at random below Linux's ephemeral range
 * (32768-60999): the kernel hands ports from that range to every outgoing connection and every listen(0), and
 * with test files running in parallel (PostgreSQL pools, fetch, Chromium) one of those took a port asked of the
 * OS before its server bound it (EADDRINUSE). Here only another test drawing the same number can.
 */
export async function freePort (): Promise<number> {
  const { createServer } = await import('node:net')
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768)
    const probe = createServer()
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false))
      probe.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (free) {
      await new Promise((resolve) => probe.close(resolve))
      return port
    }
  }
  throw new Error('no free port between 20000 and 32767')
}

/** The app listening on loopback with ISSUER = its real URL, for tests that need a network peer. */
export async function buildListening (t: Test, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, url: string }> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const app = await build(t, { ISSUER: url, ...env })
  await app.listen({ port, host: '127.0.0.1' })
  return { app, url }
}

/** A clock a test moves by hand (whole seconds), for expiry tests: pass it as `build(t, env, { clock })`. */
export interface ManualClock extends Clock {
  advance (seconds: number): void
}

export function manualClock (startSeconds = Math.floor(Date.now() / 1000)): ManualClock {
  let ms = startSeconds * 1000
  return {
    now: () => Math.floor(ms / 1000),
    nowMs: () => ms,
    advance (seconds) { ms += seconds * 1000 }
  }
}
