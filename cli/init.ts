import { argon2Params, createPasswordHasher } from '../lib/credentials/passwords.js'
import { createFirstAdmin, toUserView } from '../lib/admin/users.js'
import { command, type CommandGroup, UsageError } from './command.js'

/** `gatehouse init`: the first administrator, with a generated password printed once (lib/admin/users.ts createFirstAdmin). */
export const init: CommandGroup = {
  name: 'init',
  summary: 'the first administrator',
  commands: [
    command({
      name: undefined,
      summary: 'create the first admin user (scope admin) with a generated password, printed once; prints the user as GET /users/me shows it, with "password"',
      usage: ['[--username NAME]'],
      details: [
        'Refused (exit 1) when any user already has the admin scope, disabled ones included: it makes the first admin only ' +
          '(another: gatehouse users add NAME --password-stdin --scope admin). The password is 24 random characters, shown here ' +
          'and nowhere else (the store keeps only its hash): sign in with it at ISSUER/console or in /docs (Authorize, password flow). ' +
          'Safe in scripts: run again, it exits 1 and changes nothing.'
      ],
      positionals: false,
      flags: {
        username: { type: 'string', value: 'NAME', description: 'the admin\'s username (default admin)' }
      },
      async run ({ values }, { config, storage }) {
        const username = values.username ?? 'admin'
        if (username === '') throw new UsageError('--username: empty')
        const store = await storage()
        const { user, password } = await createFirstAdmin(store, await createPasswordHasher(argon2Params(config)), username)
        return { ...toUserView(user), password }
      }
    })
  ]
}
