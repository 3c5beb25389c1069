import { createReadStream, existsSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import { loadConfig, type Config } from '../lib/config.js'
import { ensureSigningKey, rotateSigningKey } from '../lib/keys/signing-keys.js'
import { systemClock } from '../lib/clock.js'
import { generateOpenApiYaml } from '../openapi.js'
import { argon2Params, createPasswordHasher } from '../lib/credentials/passwords.js'
import { createClient, deleteClient, toClientView, updateClient } from '../lib/admin/clients.js'
import { createUser, toUserView, updateUser } from '../lib/admin/users.js'
import { endSessions, listConsents, listSessions, revokeConsents } from '../lib/admin/browser.js'
import { createProvider, deleteProvider, listIdentities, listProviders, unlinkIdentity, updateProvider, type ProviderPatchInput } from '../lib/admin/providers.js'
import { exportUsers, IMPORT_DEFAULTS, importUsers } from '../lib/admin/user-import.js'
import { progressView } from './import-progress.js'
import { openStorage } from '../lib/stores/index.js'
import { sqlitePath } from '../lib/stores/sqlite/index.js'
import { PROJECT_ROOT } from '../lib/paths.js'
import type { Storage } from '../lib/stores/types.js'

/**
 * `gatehouse` — the command line (CONTRACT.md). It reads the same environment as the server and uses
 * the same stores and services. JSON on stdout and exit 0 on success; one line on stderr and exit 1 on
 * failure. Secrets are read from stdin, never from argv.
 */
const HELP: Record<string, string> = {
  users: `gatehouse users: manage the people who sign in
  gatehouse users add USERNAME --password-stdin [--full-name TEXT] [--email EMAIL] [--scope "a b"]
      the password is read from standard input, never from the command line
  gatehouse users disable USERNAME     refuse their sign-ins and tokens (within seconds on every instance)
  gatehouse users enable USERNAME
  gatehouse users list                 JSON array of users (no password hashes)
  gatehouse users import FILE|- [--update] [--batch-size N] [--progress-interval SECONDS]
      JSON Lines, one user a line; bcrypt, argon2 and PBKDF2 hashes are kept (see README, Import users)
  gatehouse users export               JSON Lines on standard output
  gatehouse users sessions USERNAME    their browser sessions (the login page)
  gatehouse users end-sessions USERNAME  sign them out of every browser
  gatehouse users consents USERNAME    the clients they allowed, with the scopes
  gatehouse users revoke-consent USERNAME [--client CLIENT_ID]  the consent page is shown again`,
  clients: `gatehouse clients: manage the applications that ask for tokens
  gatehouse clients add CLIENT_ID [--public] [--grant g1,g2] [--scope "a b"] [--redirect-uri URI]...
      prints the client secret once (confidential clients); grants: client_credentials (default),
      password, refresh_token, authorization_code
      [--providers a,b]  its users sign in through these upstream providers only (no password form)
  gatehouse clients update CLIENT_ID [--grant g1,g2] [--scope "a b"] [--redirect-uri URI]... [--providers a,b]
      (--providers '' lifts the restriction)
  gatehouse clients list
  gatehouse clients remove CLIENT_ID   its tokens stop working`,
  providers: `gatehouse providers: upstream identity providers users may sign in with (OpenID Connect, or plain OAuth 2.0)
  gatehouse providers add NAME --issuer URL --client-id ID --client-secret-stdin [--scope "openid email profile"]
      [--display-name TEXT] [--link-by-email] [--no-create-users]
      the client secret is read from standard input and never shown again; prints the provider with its
      redirect_uri (ISSUER/login/NAME/callback), what to register at the provider. Endpoints come from the
      issuer's discovery document. http:// only for loopback hosts.
      --link-by-email     a first sign-in whose e-mail the provider marks verified signs in as the local user with it
      --no-create-users   a first sign-in of an unknown account is refused (access_denied) instead of creating a user
    plain OAuth 2.0 (no discovery, no ID token; e.g. GitHub):
      --authorization-endpoint URL --token-endpoint URL --userinfo-endpoint URL
      --subject-claim C (default sub) --email-claim C --email-verified-claim C --name-claim C --username-claim C
      (without --email-verified-claim the provider's e-mail is never treated as verified)
  gatehouse providers update NAME [the options of add] [--client-secret-stdin] [--create-users] [--no-link-by-email]
  gatehouse providers list             JSON array of providers (never a secret)
  gatehouse providers remove NAME      its button and sign-ins stop; linked accounts are kept
  gatehouse providers identities USERNAME          the accounts at providers that sign in as USERNAME
  gatehouse providers unlink USERNAME --provider NAME  that account no longer signs in as USERNAME`,
  keys: `gatehouse keys: signing keys
  gatehouse keys rotate                a new key, published at once and signing after KEY_PUBLISH_DELAY_SECONDS`,
  openapi: 'gatehouse openapi: write openapi.yaml (the API description) into the project folder'
}

const USAGE = `usage: gatehouse COMMAND [ARGS]   (gatehouse COMMAND --help for one command, gatehouse --version)
${Object.values(HELP).join('\n')}

The CLI reads the same environment as the server (DATABASE_URL, ...): run it with the settings the server
has. Without DATABASE_URL it uses data/gatehouse.db in the project folder, wherever it is run from.
Output: JSON on stdout and exit 0; on failure one line on stderr and exit 1.`

class UsageError extends Error {}

/** What a command returns when it wrote its output itself (users export streams JSON Lines). */
const STREAMED = Symbol('streamed')

const clock = systemClock

async function readStdin (option = '--password-stdin'): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError(option === '--password-stdin'
      ? '--password-stdin: pipe the password in, e.g. printf %s "$PW" | gatehouse users add NAME --password-stdin'
      : `${option}: pipe the secret in, e.g. printf %s "$SECRET" | gatehouse providers add NAME ... ${option}`)
  }
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  // One trailing newline is stripped (as `echo` adds one); anything else is part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

function one (positionals: string[], what: string): string {
  const [only] = positionals
  if (only === undefined || positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`)
  return only
}

async function users (storage: Storage, config: Config, action: string | undefined, args: string[]): Promise<unknown> {
  switch (action) {
    case 'add': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { 'password-stdin': { type: 'boolean' }, 'full-name': { type: 'string' }, email: { type: 'string' }, scope: { type: 'string' } }
      })
      const username = one(positionals, 'USERNAME')
      if (!values['password-stdin']) throw new UsageError('users add needs --password-stdin (passwords are never taken from the command line)')
      const password = await readStdin()
      const passwords = await createPasswordHasher(argon2Params(config))
      const user = await createUser(storage, passwords, username, password, { fullName: values['full-name'], email: values.email, scope: values.scope })
      return toUserView(user)
    }
    case 'disable':
    case 'enable': {
      const username = one(parseArgs({ args, allowPositionals: true }).positionals, 'USERNAME')
      return toUserView(await updateUser({ storage, passwords: await createPasswordHasher(argon2Params(config)), clock, config }, username, { disabled: action === 'disable' }))
    }
    case 'sessions':
      return listSessions({ storage, clock }, one(parseArgs({ args, allowPositionals: true }).positionals, 'USERNAME'))
    case 'end-sessions':
      return { ended: await endSessions(storage, one(parseArgs({ args, allowPositionals: true }).positionals, 'USERNAME')) }
    case 'consents':
      return listConsents(storage, one(parseArgs({ args, allowPositionals: true }).positionals, 'USERNAME'))
    case 'revoke-consent': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { client: { type: 'string' } } })
      return { revoked: await revokeConsents(storage, one(positionals, 'USERNAME'), values.client) }
    }
    case 'list':
      parseArgs({ args, allowPositionals: false })
      return (await storage.users.list({ limit: 1_000_000, offset: 0 })).map(toUserView)
    case 'import': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { update: { type: 'boolean' }, 'batch-size': { type: 'string' }, 'progress-interval': { type: 'string' } }
      })
      const file = one(positionals, 'FILE (or - for standard input)')
      const batchSize = count(values['batch-size'], '--batch-size', IMPORT_DEFAULTS.batchSize, 1, 100_000)
      const intervalSeconds = count(values['progress-interval'], '--progress-interval', 2, 1, 3600)
      // Opened first, so a missing file is one clear line before anything is read or written.
      const fd = file === '-' ? 0 : openFile(file)
      const stat = fstatSync(fd)
      if (stat.isDirectory()) throw new Error(`cannot read ${file}: a directory`)
      const source = file === '-' ? process.stdin : createReadStream('', { fd, highWaterMark: 256 * 1024 })
      const view = progressView(process.stderr, { totalBytes: stat.isFile() ? stat.size : undefined, intervalMs: intervalSeconds * 1000 })
      // Ctrl-C: stop after the batch in flight (each batch is one transaction), say where, exit 1. A second one kills.
      const interrupt = new AbortController()
      process.once('SIGINT', () => { interrupt.abort(); source.destroy() })
      try {
        return await importUsers({ storage, clock, config }, source, { update: values.update ?? false, batchSize, onProgress: view.update, signal: interrupt.signal })
      } finally {
        view.stop()
      }
    }
    case 'export': {
      parseArgs({ args, allowPositionals: false })
      // JSON Lines, one user a line, written as the store is paged (memory holds one page), with backpressure.
      const failed = new Promise<never>((_resolve, reject) => { process.stdout.once('error', reject) })
      failed.catch(() => {})
      for await (const line of exportUsers(storage)) {
        if (!process.stdout.write(line + '\n')) await Promise.race([once(process.stdout, 'drain'), failed])
      }
      return STREAMED
    }
    default:
      throw new UsageError(`unknown command: users ${action ?? ''}`)
  }
}

/** A whole number option within bounds, or its default. */
function count (value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${name}: a whole number from ${min} to ${max}`)
  return Number(value)
}

function openFile (path: string): number {
  try {
    return openSync(path, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory' : String(code)}`)
  }
}

/** Options `clients add` and `clients update` share. */
const CLIENT_OPTIONS = {
  grant: { type: 'string', multiple: true },
  scope: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'skip-consent': { type: 'boolean' },
  providers: { type: 'string' }
} as const

/** `--providers a,b` as a list; '' lifts the restriction (null); absent: undefined. */
function providerList (value: string | undefined): string[] | null | undefined {
  if (value === undefined) return undefined
  const names = value.split(',').map((n) => n.trim()).filter(Boolean)
  return names.length === 0 ? null : names
}

async function clients (storage: Storage, config: Config, action: string | undefined, args: string[]): Promise<unknown> {
  switch (action) {
    case 'add': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { public: { type: 'boolean' }, ...CLIENT_OPTIONS }
      })
      const id = one(positionals, 'CLIENT_ID')
      const isPublic = values.public ?? false
      const grantTypes = values.grant
        ? values.grant.flatMap((g) => g.split(',')).map((g) => g.trim()).filter(Boolean)
        : isPublic ? ['authorization_code', 'refresh_token'] : ['client_credentials']
      const { client, secret } = await createClient(storage, id, {
        isPublic,
        grantTypes,
        scope: values.scope ?? null,
        redirectUris: values['redirect-uri'] ?? [],
        postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
        skipConsent: values['skip-consent'] ?? false,
        providers: providerList(values.providers) ?? null
      })
      return { ...toClientView(client), ...(secret === undefined ? {} : { client_secret: secret }) }
    }
    case 'update': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CLIENT_OPTIONS, 'no-skip-consent': { type: 'boolean' } } })
      const id = one(positionals, 'CLIENT_ID')
      if (values['skip-consent'] && values['no-skip-consent']) throw new UsageError('--skip-consent and --no-skip-consent together')
      const { client } = await updateClient({ storage, clock, config }, id, {
        grantTypes: values.grant?.flatMap((g) => g.split(',')).map((g) => g.trim()).filter(Boolean),
        scope: values.scope,
        redirectUris: values['redirect-uri'],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        skipConsent: values['skip-consent'] ? true : values['no-skip-consent'] ? false : undefined,
        providers: providerList(values.providers)
      })
      return toClientView(client)
    }
    case 'list':
      parseArgs({ args, allowPositionals: false })
      return (await storage.clients.list({ limit: 1_000_000, offset: 0 })).map(toClientView)
    case 'remove': {
      const id = one(parseArgs({ args, allowPositionals: true }).positionals, 'CLIENT_ID')
      return toClientView(await deleteClient({ storage, clock, config }, id))
    }
    default:
      throw new UsageError(`unknown command: clients ${action ?? ''}`)
  }
}

/** Options `providers add` and `providers update` share. */
const PROVIDER_OPTIONS = {
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  scope: { type: 'string' },
  'display-name': { type: 'string' },
  'link-by-email': { type: 'boolean' },
  'no-link-by-email': { type: 'boolean' },
  'create-users': { type: 'boolean' },
  'no-create-users': { type: 'boolean' },
  'authorization-endpoint': { type: 'string' },
  'token-endpoint': { type: 'string' },
  'userinfo-endpoint': { type: 'string' },
  'subject-claim': { type: 'string' },
  'email-claim': { type: 'string' },
  'email-verified-claim': { type: 'string' },
  'name-claim': { type: 'string' },
  'username-claim': { type: 'string' }
} as const

type ProviderValues = { [K in keyof typeof PROVIDER_OPTIONS]?: typeof PROVIDER_OPTIONS[K]['type'] extends 'boolean' ? boolean : string }

/** A yes/no pair of flags: true, false, or undefined when neither was given. */
function flag (values: ProviderValues, yes: 'link-by-email' | 'create-users', no: 'no-link-by-email' | 'no-create-users'): boolean | undefined {
  if (values[yes] && values[no]) throw new UsageError(`--${yes} and --${no} together`)
  return values[yes] ? true : values[no] ? false : undefined
}

async function providerInput (values: ProviderValues, secretRequired: boolean): Promise<ProviderPatchInput> {
  if (secretRequired && !values['client-secret-stdin']) throw new UsageError('providers add needs --client-secret-stdin (secrets are never taken from the command line)')
  const claims = {
    subject: values['subject-claim'],
    email: values['email-claim'],
    emailVerified: values['email-verified-claim'],
    name: values['name-claim'],
    username: values['username-claim']
  }
  return {
    issuer: values.issuer,
    clientId: values['client-id'],
    clientSecret: values['client-secret-stdin'] ? await readStdin('--client-secret-stdin') : undefined,
    scope: values.scope,
    displayName: values['display-name'],
    linkByEmail: flag(values, 'link-by-email', 'no-link-by-email'),
    createUsers: flag(values, 'create-users', 'no-create-users'),
    authorizationEndpoint: values['authorization-endpoint'],
    tokenEndpoint: values['token-endpoint'],
    userinfoEndpoint: values['userinfo-endpoint'],
    claims: Object.values(claims).some((c) => c !== undefined) ? claims : undefined
  }
}

async function providers (storage: Storage, config: Config, action: string | undefined, args: string[]): Promise<unknown> {
  const deps = { storage, config }
  switch (action) {
    case 'add': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: PROVIDER_OPTIONS })
      const name = one(positionals, 'NAME')
      if (values.issuer === undefined) throw new UsageError('providers add needs --issuer URL')
      if (values['client-id'] === undefined) throw new UsageError('providers add needs --client-id ID')
      const input = await providerInput(values, true)
      return createProvider(deps, { ...input, name, issuer: values.issuer, clientId: values['client-id'], clientSecret: input.clientSecret ?? '' })
    }
    case 'update': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: PROVIDER_OPTIONS })
      return updateProvider(deps, one(positionals, 'NAME'), await providerInput(values, false))
    }
    case 'list':
      parseArgs({ args, allowPositionals: false })
      return listProviders(deps)
    case 'remove':
      return deleteProvider(deps, one(parseArgs({ args, allowPositionals: true }).positionals, 'NAME'))
    case 'identities':
      return listIdentities(storage, one(parseArgs({ args, allowPositionals: true }).positionals, 'USERNAME'))
    case 'unlink': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { provider: { type: 'string' } } })
      if (values.provider === undefined) throw new UsageError('providers unlink needs --provider NAME')
      return { unlinked: await unlinkIdentity(storage, one(positionals, 'USERNAME'), values.provider) }
    }
    default:
      throw new UsageError(`unknown command: providers ${action ?? ''}`)
  }
}

async function keys (storage: Storage, config: Config, action: string | undefined): Promise<unknown> {
  if (action !== 'rotate') throw new UsageError(`unknown command: keys ${action ?? ''}`)
  await ensureSigningKey(storage.keys, clock.now())
  const key = await rotateSigningKey(storage.keys, clock, config.keyPublishDelaySeconds)
  return { kid: key.kid, activates_at: key.activatesAt }
}

async function run (argv: string[]): Promise<unknown> {
  const [group, action, ...rest] = argv
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') return help(USAGE)
  if (group === '--version' || group === '-v' || group === 'version') return help(version())
  // `gatehouse users --help`, `gatehouse users add --help`: the command's own help, before anything is opened.
  if (argv.includes('--help') || argv.includes('-h')) {
    if (HELP[group] === undefined) throw new UsageError(`unknown command: ${group}`)
    return help(HELP[group])
  }
  const config = loadConfig(process.env)
  if (group === 'openapi') {
    const target = new URL('../../openapi.yaml', import.meta.url)
    writeFileSync(target, await generateOpenApiYaml())
    return { written: target.pathname }
  }
  warnIfNewDatabase(config.databaseUrl)
  const storage = await openStorage(config.databaseUrl)
  try {
    switch (group) {
      case 'users': return await users(storage, config, action, rest)
      case 'clients': return await clients(storage, config, action, rest)
      case 'keys': return await keys(storage, config, action)
      case 'providers': return await providers(storage, config, action, rest)
      default: throw new UsageError(`unknown command: ${group}`)
    }
  } finally {
    await storage.close()
  }
}

/** Help and version text: plain text on stdout, exit 0 (not JSON: they are for people). */
function help (text: string): typeof STREAMED {
  process.stdout.write(text + '\n')
  return STREAMED
}

function version (): string {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
  return `gatehouse ${pkg.version}`
}

/**
 * A relative DATABASE_URL (sqlite:./x.db) is relative to the working directory: run from another folder,
 * the CLI would silently work on a new, empty database. Say so on stderr (the command still runs).
 */
function warnIfNewDatabase (databaseUrl: string): void {
  if (!databaseUrl.startsWith('sqlite:')) return
  const path = sqlitePath(databaseUrl)
  if (path === ':memory:' || isAbsolute(databaseUrl.slice('sqlite:'.length)) || existsSync(path)) return
  process.stderr.write(`gatehouse: warning: no database at ${path} yet; creating a new, empty one (set DATABASE_URL to use another)\n`)
}

run(process.argv.slice(2)).then(
  (result) => { if (result !== STREAMED) process.stdout.write(JSON.stringify(result) + '\n') },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err)
    // CONTRACT: a failure is one line on stderr (the usage is one `gatehouse --help` away).
    process.stderr.write(`gatehouse: ${message.split('\n')[0]}${err instanceof UsageError ? ' (see gatehouse --help)' : ''}\n`)
    process.exitCode = 1
  }
)
