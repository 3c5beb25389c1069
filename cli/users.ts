import { createReadStream, fstatSync, openSync } from 'node:fs'
import { once } from 'node:events'
import { argon2Params, createPasswordHasher } from '../lib/credentials/passwords.js'
import { createUser, deleteUser, findUser, toAdminUserView, toUserView, updateUser } from '../lib/admin/users.js'
import { adminPasswordReset } from '../lib/admin/password-reset.js'
import { queueMail } from '../lib/mail/queue.js'
import { MailTemplates } from '../lib/mail/templates.js'
import { noEvents } from '../lib/ops/events.js'
import { listFactors, removeFactor, resetFactors } from '../lib/admin/factors.js'
import { endSessions, listConsents, listSessions, revokeConsents } from '../lib/admin/browser.js'
import { exportUsers, IMPORT_DEFAULTS, importUsers } from '../lib/admin/user-import.js'
import { invite } from '../lib/accounts/invitations.js'
import { listInvitations, revokeInvitation } from '../lib/admin/invitations.js'
import { progressView } from './import-progress.js'
import { command, count, one, readStdin, STREAMED, UsageError, type CommandGroup } from './command.js'

/** `--claims JSON`: a user's standard claims (OIDC Core §5.1), checked by lib/admin/user-claims.ts. */
const CLAIMS_FLAG = { type: 'string', value: 'JSON', description: 'the standard claims as a JSON object, e.g. \'{"given_name":"Alice","locale":"en-GB","address":{"country":"GB"}}\' (docs/browser-sign-in.md lists them)' } as const

function claimsFlag (text: string | undefined): unknown {
  if (text === undefined) return undefined
  try { return JSON.parse(text) } catch { throw new UsageError('--claims: not JSON') }
}

/** `gatehouse users …`: the people who sign in (lib/admin/users.ts, user-import.ts, browser.ts). */
export const users: CommandGroup = {
  name: 'users',
  summary: 'manage the people who sign in',
  commands: [
    command({
      name: 'add',
      operations: ['createUser'],
      summary: 'create a user and print it as GET /users/me shows it; the password is read from standard input, never from the command line',
      usage: ['USERNAME --password-stdin [--full-name TEXT] [--email EMAIL] [--scope "a b"] [--claims JSON]'],
      details: ['USERNAME: lowercase ASCII, [a-z0-9][a-z0-9._@+-]{0,63}, matched exactly at sign-in.'],
      positionals: true,
      flags: {
        'password-stdin': { type: 'boolean', description: 'read the password from standard input (required; one trailing newline is stripped)' },
        'full-name': { type: 'string', value: 'TEXT', description: 'the user\'s full name (full_name; the ID token\'s and /userinfo\'s name)' },
        email: { type: 'string', value: 'EMAIL', description: 'the user\'s e-mail address (set by an administrator, so email_verified is false)' },
        scope: { type: 'string', value: '"a b"', description: 'the scopes the user may be granted, space-separated' },
        claims: CLAIMS_FLAG
      },
      async run ({ values, positionals }, { config, storage }) {
        const username = one(positionals, 'USERNAME')
        if (!values['password-stdin']) throw new UsageError('users add needs --password-stdin (passwords are never taken from the command line)')
        const store = await storage()
        const password = await readStdin('--password-stdin', 'printf %s "$PW" | gatehouse users add NAME --password-stdin')
        const passwords = await createPasswordHasher(argon2Params(config))
        const user = await createUser(store, passwords, username, password, { fullName: values['full-name'], email: values.email, scope: values.scope, claims: claimsFlag(values.claims) })
        return toUserView(user)
      }
    }),
    command({
      name: 'get',
      operations: ['getUser'],
      summary: 'one user as GET /admin/users/{username} shows it (the view users list prints; never the password hash)',
      usage: ['USERNAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        return toAdminUserView(await findUser(await storage(), one(positionals, 'USERNAME')))
      }
    }),
    command({
      name: 'update',
      operations: ['updateUser'],
      summary: 'change a user\'s full name, e-mail, scopes or standard claims and print it as GET /users/me shows it',
      usage: ['USERNAME [--full-name TEXT] [--email EMAIL] [--scope "a b"] [--claims JSON]'],
      details: [
        'An empty --full-name or --email clears it; --scope replaces the user\'s scopes (\'\' removes them all; their tokens ' +
          'already issued keep theirs until they expire); --claims replaces the whole set ({} clears it). ' +
          'A new password: users set-password; disabling: users disable.'
      ],
      positionals: true,
      flags: {
        'full-name': { type: 'string', value: 'TEXT', description: 'the user\'s full name (the ID token\'s and /userinfo\'s name)' },
        email: { type: 'string', value: 'EMAIL', description: 'the user\'s e-mail address (a changed one is no longer verified)' },
        scope: { type: 'string', value: '"a b"', description: 'the scopes the user may be granted, space-separated (replaces them; \'\' for none)' },
        claims: CLAIMS_FLAG
      },
      async run ({ values, positionals }, { config, clock, storage }) {
        const username = one(positionals, 'USERNAME')
        const cleared = (value: string | undefined) => value === undefined ? undefined : value === '' ? null : value
        const input = { fullName: cleared(values['full-name']), email: cleared(values.email), scope: values.scope, claims: claimsFlag(values.claims) }
        if (Object.values(input).every((v) => v === undefined)) throw new UsageError('users update needs --full-name, --email, --scope or --claims')
        const store = await storage()
        return toUserView(await updateUser({ storage: store, passwords: await createPasswordHasher(argon2Params(config)), clock, config }, username, input))
      }
    }),
    command({
      name: 'set-password',
      operations: ['updateUser'],
      summary: 'give a user a new password, read from standard input (never from the command line); prints the user as GET /users/me shows it',
      usage: ['USERNAME --password-stdin'],
      details: [
        'As PATCH /admin/users/{username} with a password: every grant the user holds is revoked and their browser sessions end, ' +
          'so the new password must be entered everywhere. To let the user choose one instead: users reset-password.'
      ],
      positionals: true,
      flags: {
        'password-stdin': { type: 'boolean', description: 'read the new password from standard input (required; one trailing newline is stripped)' }
      },
      async run ({ values, positionals }, { config, clock, storage }) {
        const username = one(positionals, 'USERNAME')
        if (!values['password-stdin']) throw new UsageError('users set-password needs --password-stdin (passwords are never taken from the command line)')
        const store = await storage()
        const password = await readStdin('--password-stdin', 'printf %s "$PW" | gatehouse users set-password NAME --password-stdin')
        return toUserView(await updateUser({ storage: store, passwords: await createPasswordHasher(argon2Params(config)), clock, config }, username, { password }))
      }
    }),
    ...(['disable', 'enable'] as const).map((action) => command({
      name: action,
      operations: ['updateUser'],
      summary: action === 'disable'
        ? 'refuse their sign-ins and tokens (at once here, within seconds on every instance): revokes their grants and ends their browser sessions'
        : 'allow their sign-ins again (tokens revoked when they were disabled stay revoked)',
      usage: ['USERNAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { config, clock, storage }) {
        const username = one(positionals, 'USERNAME')
        const store = await storage()
        return toUserView(await updateUser({ storage: store, passwords: await createPasswordHasher(argon2Params(config)), clock, config }, username, { disabled: action === 'disable' }))
      }
    })),
    command({
      name: 'remove',
      operations: ['deleteUser'],
      summary: 'delete a user and print them as they were (GET /admin/users/{username}); every token issued to them stops working, their sessions end and their consents are forgotten',
      usage: ['USERNAME'],
      details: ['Their security events stay. Re-creating the username makes a new user: none of the old one\'s tokens work for it.'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { config, clock, storage }) {
        return toAdminUserView(await deleteUser({ storage: await storage(), clock, config }, one(positionals, 'USERNAME')))
      }
    }),
    command({
      name: 'reset-password',
      operations: ['sendPasswordReset'],
      summary: 'send them a password-reset link (as /forgot-password would); prints {"email","expires_at"}',
      usage: ['USERNAME'],
      details: [
        'The message goes into the outbox in the database, and a running server sends it (within MAIL_POLL_MS): with no server ' +
          'running it waits until one starts. The link works once, for 30 minutes, and voids the user\'s older ones; the password ' +
          'is unchanged until the user follows it. A user without an e-mail address, or disabled, is refused (exit 1).'
      ],
      positionals: true,
      flags: {},
      async run ({ positionals }, { config, clock, storage }) {
        const username = one(positionals, 'USERNAME')
        const store = await storage()
        const send = (kind: string, to: string, data?: Record<string, unknown>) =>
          queueMail({ outbox: store.outbox, templates: new MailTemplates(config.viewsDir), config, now: clock.now() }, kind, to, data)
        return adminPasswordReset({ storage: store, send, events: noEvents }, username, { now: clock.now(), ip: '(cli)' })
      }
    }),
    command({
      name: 'list',
      operations: ['listUsers'],
      summary: 'the users ordered by username as a JSON array of GET /admin/users views (no password hashes; created_by names the provider that created a user)',
      usage: ['[--limit N] [--offset N]'],
      details: ['Without --limit, every user (users export streams them as JSON Lines, for many).'],
      positionals: false,
      flags: {
        limit: { type: 'string', value: 'N', description: 'at most this many, 1 to 1000000 (default: all)' },
        offset: { type: 'string', value: 'N', description: 'skip this many first (default 0), for the next page' }
      },
      async run ({ values }, { storage }) {
        const page = { limit: count(values.limit, '--limit', 1_000_000, 1, 1_000_000), offset: count(values.offset, '--offset', 0, 0, 2 ** 31 - 1) }
        return (await (await storage()).users.list(page)).map(toAdminUserView)
      }
    }),
    command({
      name: 'import',
      operations: ['importUsers'],
      summary: 'import users with the password hashes another system left (bcrypt, argon2, PBKDF2) from JSON Lines, one user a line; prints a summary',
      usage: ['FILE|- [--update] [--batch-size N] [--progress-interval SECONDS]'],
      details: [
        'FILE - reads standard input. Idempotent: a username already present is skipped (or updated with --update), ' +
          'so an interrupted import is finished by running it again. Progress goes to standard error. See docs/import.md.'
      ],
      positionals: true,
      flags: {
        update: { type: 'boolean', description: 'existing users take the values the line names (fields it leaves out are kept); without it they are skipped' },
        'batch-size': { type: 'string', value: 'N', description: `lines checked and written per transaction, 1 to 100000 (default ${IMPORT_DEFAULTS.batchSize})` },
        'progress-interval': { type: 'string', value: 'SECONDS', description: 'off a terminal, seconds between progress lines on standard error, 1 to 3600 (default 2)' }
      },
      async run ({ values, positionals }, { config, clock, storage }) {
        const file = one(positionals, 'FILE (or - for standard input)')
        const batchSize = count(values['batch-size'], '--batch-size', IMPORT_DEFAULTS.batchSize, 1, 100_000)
        const intervalSeconds = count(values['progress-interval'], '--progress-interval', 2, 1, 3600)
        // Opened first, so a missing file is one clear line before anything is read or written.
        const fd = file === '-' ? 0 : openFile(file)
        const stat = fstatSync(fd)
        if (stat.isDirectory()) throw new Error(`cannot read ${file}: a directory`)
        const store = await storage()
        const source = file === '-' ? process.stdin : createReadStream('', { fd, highWaterMark: 256 * 1024 })
        const view = progressView(process.stderr, { totalBytes: stat.isFile() ? stat.size : undefined, intervalMs: intervalSeconds * 1000 })
        // Ctrl-C: stop after the batch in flight (each batch is one transaction), say where, exit 1. A second one kills.
        const interrupt = new AbortController()
        process.once('SIGINT', () => { interrupt.abort(); source.destroy() })
        try {
          return await importUsers({ storage: store, clock, config }, source, { update: values.update ?? false, batchSize, onProgress: view.update, signal: interrupt.signal })
        } finally {
          view.stop()
        }
      }
    }),
    command({
      name: 'export',
      summary: 'every user as JSON Lines on standard output, the hash as stored: what users import reads',
      usage: [''],
      positionals: false,
      flags: {},
      async run (_input, { storage }) {
        const store = await storage()
        // JSON Lines, one user a line, written as the store is paged (memory holds one page), with backpressure.
        const failed = new Promise<never>((_resolve, reject) => { process.stdout.once('error', reject) })
        failed.catch(() => {})
        for await (const line of exportUsers(store)) {
          if (!process.stdout.write(line + '\n')) await Promise.race([once(process.stdout, 'drain'), failed])
        }
        return STREAMED
      }
    }),
    command({
      name: 'invite',
      operations: ['createInvitation'],
      summary: 'send EMAIL a link to choose a username and a password (7 days, single use); prints {"email","expires_at"} (users invitations lists the ids)',
      usage: ['EMAIL [--scope "a b"]'],
      details: [
        'The message is queued in the database\'s outbox: a running server on the same database sends it (within MAIL_POLL_MS). ' +
          'Refused when a user has this e-mail; a newer invitation to the same address replaces the pending one. See docs/accounts.md.'
      ],
      positionals: true,
      flags: {
        scope: { type: 'string', value: '"a b"', description: 'the scopes the new user gets, space-separated (default: none)' }
      },
      async run ({ values, positionals }, { config, clock, storage }) {
        const email = one(positionals, 'EMAIL')
        const store = await storage()
        const templates = new MailTemplates(config.viewsDir)
        const send = (kind: string, to: string, data?: Record<string, unknown>) => queueMail({ outbox: store.outbox, templates, config, now: clock.now() }, kind, to, data)
        const link = await invite({ storage: store, send, now: clock.now() }, { email, scope: values.scope })
        return { email: link.email, expires_at: link.expiresAt }
      }
    }),
    command({
      name: 'invitations',
      operations: ['listInvitations'],
      summary: 'the pending invitations (neither accepted, revoked nor expired), newest first, as GET /admin/invitations shows them',
      usage: [''],
      positionals: false,
      flags: {},
      async run (_input, { clock, storage }) {
        return listInvitations(await storage(), clock.now())
      }
    }),
    command({
      name: 'uninvite',
      operations: ['revokeInvitation'],
      summary: 'revoke a pending invitation by its id (from users invitations): its link stops working; prints {"revoked": ID}',
      usage: ['ID'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        const id = one(positionals, 'ID')
        await revokeInvitation(await storage(), id)
        return { revoked: id }
      }
    }),
    command({
      name: 'sessions',
      operations: ['listUserSessions'],
      summary: 'their browser sessions (signed in on the login page or through a provider)',
      usage: ['USERNAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { clock, storage }) {
        const username = one(positionals, 'USERNAME')
        return listSessions({ storage: await storage(), clock }, username)
      }
    }),
    command({
      name: 'end-sessions',
      operations: ['endUserSessions'],
      summary: 'sign them out of every browser; prints {"ended": N}',
      usage: ['USERNAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        const username = one(positionals, 'USERNAME')
        return { ended: await endSessions(await storage(), username) }
      }
    }),
    command({
      name: 'factors',
      operations: ['listUserFactors'],
      summary: 'their second factors and passkeys as GET /admin/users/{username}/factors shows them (never a secret or a key), with the recovery codes left',
      usage: ['USERNAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        return listFactors(await storage(), one(positionals, 'USERNAME'))
      }
    }),
    command({
      name: 'factors-reset',
      operations: ['resetUserFactors'],
      summary: 'remove all their second factors, passkeys and recovery codes (for a user who lost them: they enrol again); prints what was removed',
      usage: ['USERNAME'],
      details: [
        'They sign in with their password alone until they enrol again (at once where MFA=required or a client asks for a second factor). ' +
          'Their browser sessions are kept: users end-sessions ends them. See docs/second-factors.md.'
      ],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        return resetFactors({ storage: await storage(), events: noEvents }, one(positionals, 'USERNAME'), '(cli)')
      }
    }),
    command({
      name: 'factors-remove',
      operations: ['removeUserFactor'],
      summary: 'remove one of their second factors or passkeys by its id (from users factors); the others and the recovery codes stay; prints {"removed": ID}',
      usage: ['USERNAME ID'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        const [username, id] = positionals
        if (username === undefined || id === undefined || positionals.length !== 2) throw new UsageError('expected USERNAME and ID')
        await removeFactor({ storage: await storage(), events: noEvents }, username, id, '(cli)')
        return { removed: id }
      }
    }),
    command({
      name: 'consents',
      operations: ['listUserConsents'],
      summary: 'the clients they allowed on the consent page, with the scopes',
      usage: ['USERNAME'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        const username = one(positionals, 'USERNAME')
        return listConsents(await storage(), username)
      }
    }),
    command({
      name: 'revoke-consent',
      operations: ['revokeUserConsents', 'revokeUserConsent'],
      summary: 'forget what they allowed, so the consent page is shown again; prints {"revoked": N}',
      usage: ['USERNAME [--client CLIENT_ID]'],
      positionals: true,
      flags: {
        client: { type: 'string', value: 'CLIENT_ID', description: 'only the consent given to this client (default: every client)' }
      },
      async run ({ values, positionals }, { storage }) {
        const username = one(positionals, 'USERNAME')
        return { revoked: await revokeConsents(await storage(), username, values.client) }
      }
    })
  ]
}

function openFile (path: string): number {
  try {
    return openSync(path, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory' : String(code)}`)
  }
}
