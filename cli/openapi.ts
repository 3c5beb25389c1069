import { writeFileSync } from 'node:fs'
import { generateOpenApiYaml } from '../openapi.js'
import { command, type CommandGroup } from './command.js'

/** `gatehouse openapi`: the API description, built from the route schemas (openapi.ts). */
export const openapi: CommandGroup = {
  name: 'openapi',
  summary: 'the API description',
  commands: [
    command({
      name: undefined,
      summary: 'write openapi.yaml (the API description, from the route schemas) into the project folder; prints {"written": PATH}',
      usage: [''],
      positionals: false,
      flags: {},
      async run () {
        const target = new URL('../../openapi.yaml', import.meta.url)
        writeFileSync(target, await generateOpenApiYaml())
        return { written: target.pathname }
      }
    })
  ]
}
