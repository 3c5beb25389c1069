import { command, STREAMED, type CommandGroup } from './command.js'

/**
 * `gatehouse serve`: the server itself, as `npm start` runs it (server.ts), for an installed package where there is
 * no project folder to run `npm start` in (`npm install -g @gatehouse/server`, `npx @gatehouse/server serve`).
 */
export const serve: CommandGroup = {
  name: 'serve',
  summary: 'run the server',
  commands: [
    command({
      name: undefined,
      summary: 'start the server (what `npm start` runs), configured by the environment like every command; runs until SIGTERM or SIGINT',
      usage: [''],
      details: [
        'With WORKERS above 1 it forks the workers itself, each running `gatehouse serve` again. The database is ' +
        'DATABASE_URL; without it, data/gatehouse.db in the package\'s own folder, which an installed package should not ' +
        'rely on (set DATABASE_URL, e.g. sqlite:/var/lib/gatehouse/gatehouse.db).'
      ],
      positionals: false,
      flags: {},
      async run () {
        // server.ts starts at import (main()) and reports its own failures (exit 1).
        await import('../server.js')
        return STREAMED
      }
    })
  ]
}
