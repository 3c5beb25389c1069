import { addRegistrationToken, listRegistrationTokens, removeRegistrationToken } from '../lib/admin/registration-tokens.js'
import { command, one, UsageError, type CommandGroup } from './command.js'

/** A whole number flag, or undefined when absent. */
function wholeNumber (value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,10}$/.test(value)) throw new UsageError(`--${flag}: a whole number`)
  return Number(value)
}

/** `gatehouse registration-tokens …`: RFC 7591 initial access tokens for REGISTRATION=token (lib/admin/registration-tokens.ts). */
export const registrationTokens: CommandGroup = {
  name: 'registration-tokens',
  summary: 'initial access tokens for dynamic client registration (REGISTRATION=token)',
  commands: [
    command({
      name: 'add',
      operations: ['createRegistrationToken'],
      summary: 'make an initial access token and print it with its id; the token is printed this once (stored only as a digest)',
      usage: ['[--expires-in SECONDS] [--max-uses N]'],
      details: ['A developer sends it as `Authorization: Bearer TOKEN` to POST /register; each registration spends one use. Without --expires-in it never expires, without --max-uses it has no limit.'],
      positionals: false,
      flags: {
        'expires-in': { type: 'string', value: 'SECONDS', description: 'it stops working this many seconds from now (at most a year)' },
        'max-uses': { type: 'string', value: 'N', description: 'it allows this many registrations' }
      },
      async run ({ values }, { clock, storage }) {
        return addRegistrationToken(await storage(), clock, {
          expiresIn: wholeNumber(values['expires-in'], 'expires-in'),
          maxUses: wholeNumber(values['max-uses'], 'max-uses')
        })
      }
    }),
    command({
      name: 'list',
      operations: ['listRegistrationTokens'],
      summary: 'the initial access tokens as a JSON array: id, expires_at, max_uses, uses, created_at (never a token)',
      usage: [''],
      positionals: false,
      flags: {},
      async run (_input, { storage }) {
        return listRegistrationTokens(await storage())
      }
    }),
    command({
      name: 'remove',
      operations: ['deleteRegistrationToken'],
      summary: 'delete an initial access token by its id and print it; clients it registered stay',
      usage: ['ID'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { storage }) {
        return removeRegistrationToken(await storage(), one(positionals, 'ID'))
      }
    })
  ]
}
