import t, { type Test } from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import type { TSchema } from '@sinclair/typebox'
import { ConfigSchema } from '../../lib/config.js'
import { renderChart, type Rendered } from '../support/helm-subset.js'
import { REPO_ROOT } from '../support/paths.js'

// Issue 29's container image, compose file and Helm chart, checked without a container engine or a cluster (both
// absent from CI here; test/deploy/image.test.ts runs the image where podman and a built image exist). What each
// check proves, and what none of them does, is in docs/deploy.md.

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8')
const CHART = join(REPO_ROOT, 'deploy', 'helm', 'gatehouse')
const CONFIG_ENV = new Set(Object.values(ConfigSchema.properties as Record<string, TSchema>).map((s) => (s as { env?: string }).env))

interface Instruction { op: string, args: string, stage: number }

/** A Dockerfile's instructions: comments dropped, continuation lines joined, each numbered by its stage (FROM). */
function dockerfile (text: string): Instruction[] {
  const joined = text.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n').replace(/\\\n/g, ' ')
  let stage = -1
  return joined.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const [, op, args] = /^\s*(\w+)\s+(.*)$/.exec(line) ?? ['', line.trim(), '']
    if (op!.toUpperCase() === 'FROM') stage++
    return { op: op!.toUpperCase(), args: args!.trim(), stage }
  })
}

t.test('Dockerfile: multi-stage, non-root, /data a volume, HEALTHCHECK /health, STOPSIGNAL', async (t) => {
  const all = dockerfile(read('Dockerfile'))
  const stages = all.filter((i) => i.op === 'FROM')
  t.ok(stages.length >= 2, 'at least a build and a runtime stage')
  const last = stages.length - 1
  const final = all.filter((i) => i.stage === last)
  const one = (op: string) => {
    const found = final.filter((i) => i.op === op)
    t.equal(found.length, 1, `one ${op} in the runtime stage`)
    return found[0]?.args ?? ''
  }
  t.notMatch(stages[last]!.args, /\bAS\s+build\b/i, 'the runtime stage is not the build stage')
  t.match(all.find((i) => i.stage < last && i.op === 'RUN' && /npm prune --omit=dev/.test(i.args))?.args ?? '', /prune/,
    'the build stage prunes the dev dependencies')
  t.notOk(final.some((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args)), 'the runtime stage installs nothing from npm')

  const user = one('USER')
  t.notMatch(user, /^(root|0)(:|$)/, `USER ${user} is not root`)
  t.ok(final.findIndex((i) => i.op === 'USER') > final.findIndex((i) => i.op === 'RUN' && /useradd/.test(i.args)), 'USER after the user is made')
  const uid = /--uid (\d+)/.exec(final.find((i) => /useradd/.test(i.args))?.args ?? '')?.[1]
  t.equal(user.split(':')[0], uid, 'USER is the uid made by useradd')

  const volume = one('VOLUME')
  t.match(volume, /"\/data"/, 'the data folder is a volume')
  const env = final.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ')
  t.match(env, /DATABASE_URL=sqlite:\/data\//, 'the default database is in the volume')
  t.match(env, /HOST=0\.0\.0\.0/, 'it listens on every interface (loopback is unreachable from outside a container)')
  for (const [, name] of env.matchAll(/(\w+)=/g)) {
    if (name !== 'NODE_ENV') t.ok(CONFIG_ENV.has(name), `ENV ${name} is a setting of lib/config.ts`)
  }

  const health = one('HEALTHCHECK')
  t.match(health, /CMD \[/, 'HEALTHCHECK in exec form')
  t.match(health, /\/health'/, 'HEALTHCHECK asks /health')
  t.match(health, /process\.env\.PORT/, 'HEALTHCHECK follows PORT')

  t.equal(one('STOPSIGNAL'), 'SIGTERM')
  t.match(read('server.ts'), /process\.on\('SIGTERM'/, 'server.ts drains on the STOPSIGNAL')
  const entrypoint = JSON.parse(one('ENTRYPOINT')) as string[]
  t.same(entrypoint.slice(0, 2), ['node', 'bin/gatehouse.js'], 'ENTRYPOINT in exec form: node is PID 1 and gets the signal itself')
  t.same(JSON.parse(one('CMD')), ['serve'])
  t.match(one('EXPOSE'), /^3000$/)

  // The runtime stage copies everything the npm package ships (package.json "files"): the image runs what the package runs.
  const copied = final.filter((i) => i.op === 'COPY' && /--from=build/.test(i.args))
    .flatMap((i) => i.args.replace(/--\S+/g, '').trim().split(/\s+/).slice(0, -1)).map((p) => p.replace(/^\/app\//, ''))
  const files = (JSON.parse(read('package.json')) as { files: string[] }).files.filter((f) => !f.startsWith('!'))
  for (const file of files) t.ok(copied.includes(file.replace(/\/$/, '')), `the image has ${file}`)
  t.ok(copied.includes('node_modules'), 'the image has the production node_modules')

  const ignored = read('.dockerignore').split('\n').map((l) => l.trim())
  for (const path of ['.git', '**/node_modules', 'dist', 'data']) t.ok(ignored.includes(path), `.dockerignore keeps ${path} out of the build context`)
  for (const path of ['lib', 'cli', 'views', 'assets', 'package-lock.json', 'tsconfig.json']) {
    t.notOk(ignored.includes(path), `.dockerignore lets ${path} in`)
  }
})

t.test('compose.yaml: PostgreSQL, Redis, two instances behind the proxy with TRUST_PROXY', async (t) => {
  const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, any>, networks: Record<string, any> }
  const services = compose.services
  for (const name of ['postgres', 'redis', 'proxy']) t.ok(services[name], `service ${name}`)
  const instances = Object.keys(services).filter((name) => services[name].build !== undefined)
  t.same(instances, ['gatehouse-a', 'gatehouse-b'], 'two Gatehouse instances, built from this Dockerfile')
  const proxyAddress = services.proxy.networks.gatehouse.ipv4_address as string
  const subnet = compose.networks.gatehouse.ipam.config[0].subnet as string
  t.ok(proxyAddress.startsWith(subnet.replace(/0\/24$/, '')), 'the proxy\'s fixed address is in the network\'s subnet')

  for (const name of instances) {
    const s = services[name]
    const env = s.environment as Record<string, string>
    for (const key of Object.keys(env)) t.ok(CONFIG_ENV.has(key), `${name}: ${key} is a setting of lib/config.ts`)
    t.equal(env.TRUST_PROXY, proxyAddress, `${name} believes X-Forwarded-For from the proxy only`)
    t.match(env.DATABASE_URL, /^postgres:\/\/[^@]+@postgres:5432\//, `${name} is on the postgres service`)
    t.match(env.REDIS_URL, /^redis:\/\/redis:6379/, `${name} uses the redis service`)
    t.equal(env.HOST, '0.0.0.0')
    t.ok(env.ISSUER, `${name}: ISSUER is set (the same on every instance)`)
    t.same(s.depends_on, { postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } })
    t.match(s.healthcheck.test.join(' '), /\/ready/, `${name}: healthy once /ready (the database) answers`)
    t.notOk(s.ports, `${name} publishes no port: only the proxy does`)
    t.ok(Number.parseInt(s.stop_grace_period, 10) > 15, `${name}: docker waits longer than the server's 15 s shutdown limit`)
  }
  t.same(Object.keys(services).filter((name) => services[name].ports), ['proxy'])
  t.same(Object.keys(services.proxy.depends_on).sort(), instances)
  for (const name of ['postgres', 'redis']) t.ok(services[name].healthcheck, `${name} has a healthcheck`)

  const nginx = read('deploy/compose/nginx.conf')
  const upstream = [...nginx.matchAll(/^\s*server\s+([\w-]+):3000\b/gm)].map((m) => m[1])
  t.same(upstream, instances, 'nginx balances over both instances')
  t.match(nginx, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/)
  t.match(nginx, new RegExp(`listen ${String(services.proxy.ports[0]).split(':').pop()};`), 'nginx listens on the published port')
  t.ok(services.proxy.volumes.some((v: string) => v.startsWith('./deploy/compose/nginx.conf:')), 'the proxy mounts this nginx.conf')
})

let compose: string | undefined
try { compose = execFileSync('docker-compose', ['version', '--short'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() } catch {}
const noCompose = compose === undefined && 'docker-compose is not on PATH (Debian\'s package docker-compose has it): only the checks above'

t.test('compose.yaml: valid against the Compose schema (docker-compose config)', { skip: noCompose }, async (t) => {
  const check = (file: string) => spawnSync('docker-compose', ['-f', file, '--project-directory', REPO_ROOT, 'config', '-q'], { encoding: 'utf8', env: { ...process.env, POSTGRES_PASSWORD: 'x' } })
  const ok = check(join(REPO_ROOT, 'compose.yaml'))
  t.equal(ok.status, 0, `docker-compose ${compose} config: ${ok.stderr}`)
  // And it does refuse: the same file with a key the schema does not know.
  const dir = mkdtempSync(join(tmpdir(), 'gh-compose-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'compose.yaml'), read('compose.yaml').replace('start_period: 30s', 'start_perod: 30s'))
  const bad = check(join(dir, 'compose.yaml'))
  t.not(bad.status, 0, 'a misspelt healthcheck key is refused')
  t.match(bad.stderr, /start_perod/)
})

/** The objects of a render by kind (one each, else the test says so). */
function byKind (t: Test, rendered: Rendered[]) {
  const docs = rendered.flatMap((r) => r.documents)
  return (kind: string) => {
    const found = docs.filter((d) => d.kind === kind)
    t.equal(found.length, 1, `one ${kind}`)
    return found[0] ?? {}
  }
}

const VALUES = { databaseUrl: 'postgres://gatehouse:pw@pg:5432/gatehouse', adminBootstrap: { password: 'a long admin password' } }

const KNOWN_API: Record<string, string> = {
  Deployment: 'apps/v1',
  Service: 'v1',
  Secret: 'v1',
  ConfigMap: 'v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
  Job: 'batch/v1'
}

t.test('Helm chart: rendered (the subset renderer), its objects and their cross-references', async (t) => {
  const rendered = renderChart(CHART, 'prod', VALUES)
  const docs = rendered.flatMap((r) => r.documents)
  const get = byKind(t, rendered)
  for (const doc of docs) {
    t.equal(doc.apiVersion, KNOWN_API[doc.kind], `${doc.kind}: apiVersion ${doc.apiVersion} (the stable one)`)
    t.match(doc.metadata?.name, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, `${doc.kind}: its name is a DNS label`)
  }
  const deployment = get('Deployment')
  const pod = deployment.spec.template
  t.notOk('replicas' in deployment.spec, 'no replicas while the HPA decides')
  t.same(deployment.spec.selector.matchLabels, Object.fromEntries(Object.entries(pod.metadata.labels).filter(([k]) => k in deployment.spec.selector.matchLabels)),
    'the selector matches the pod template')
  const container = pod.spec.containers[0]
  t.equal(container.readinessProbe.httpGet.path, '/ready')
  t.equal(container.livenessProbe.httpGet.path, '/health')
  t.equal(container.startupProbe.httpGet.path, '/health')
  t.equal(container.ports[0].containerPort, 3000)
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) t.equal(container[probe].httpGet.port, container.ports[0].name)
  const uid = /USER (\d+)/.exec(read('Dockerfile'))?.[1]
  t.equal(String(pod.spec.securityContext.runAsUser), uid, 'runAsUser is the image\'s USER')
  t.equal(pod.spec.securityContext.runAsNonRoot, true)
  t.ok(pod.spec.terminationGracePeriodSeconds > Number(container.lifecycle.preStop.exec.command[1]) + 15,
    'the grace period covers the preStop wait plus the server\'s 15 s shutdown limit')

  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]))
  for (const name of Object.keys(env)) t.ok(CONFIG_ENV.has(name), `${name} is a setting of lib/config.ts`)
  const configMap = get('ConfigMap')
  for (const name of Object.keys(configMap.data)) t.ok(CONFIG_ENV.has(name), `ConfigMap ${name} is a setting of lib/config.ts`)
  t.equal(container.envFrom[0].configMapRef.name, configMap.metadata.name)
  t.equal(env.ISSUER.value, 'https://auth.example.com')
  t.equal(env.TRUST_PROXY.value, '10.0.0.0/8')
  t.notOk(env.REDIS_URL, 'no REDIS_URL unless given')

  const secret = get('Secret')
  t.same(Object.keys(secret.stringData).sort(), ['ADMIN_PASSWORD', 'DATABASE_URL'])
  t.equal(secret.stringData.DATABASE_URL, VALUES.databaseUrl)
  const job = get('Job')
  const jobContainer = job.spec.template.spec.containers[0]
  const refs = [...container.env, ...jobContainer.env].filter((e: any) => e.valueFrom).map((e: any) => e.valueFrom.secretKeyRef)
  t.ok(refs.length >= 3)
  for (const ref of refs) {
    t.equal(ref.name, secret.metadata.name, `${ref.key}: from the chart's Secret`)
    t.ok(ref.key in secret.stringData, `${ref.key} is in the Secret`)
  }
  t.equal(job.metadata.annotations['helm.sh/hook'], 'post-install', 'the admin is made once, after the first install')
  t.match(jobContainer.command.join(' '), /users add "\$ADMIN_USERNAME" --password-stdin --scope admin/)
  t.equal(job.spec.template.spec.securityContext.runAsUser, pod.spec.securityContext.runAsUser)

  const service = get('Service')
  const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v)
  t.ok(matches(service.spec.selector, pod.metadata.labels), 'the Service selects the server pods')
  t.notOk(matches(service.spec.selector, job.spec.template.metadata.labels), 'and not the bootstrap job\'s pod')
  t.equal(service.spec.ports[0].targetPort, container.ports[0].name)

  const pdb = get('PodDisruptionBudget')
  t.ok(matches(pdb.spec.selector.matchLabels, pod.metadata.labels), 'the PDB counts the server pods')
  t.notOk(matches(pdb.spec.selector.matchLabels, job.spec.template.metadata.labels), 'and not the bootstrap job\'s pod')
  const hpa = get('HorizontalPodAutoscaler')
  t.same(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
  t.ok(hpa.spec.minReplicas > pdb.spec.minAvailable, 'a voluntary eviction can always proceed (minReplicas > minAvailable)')
  t.ok(container.resources.requests.cpu, 'CPU requests are set (the HPA\'s utilisation is relative to them)')
})

t.test('Helm chart: values that change the objects', async (t) => {
  t.throws(() => renderChart(CHART, 'prod', {}), /databaseUrl \(or existingSecret\) is required/, 'no database URL: refused')
  t.throws(() => renderChart(CHART, 'prod', { databaseUrl: 'postgres://x@y/z' }), /adminBootstrap.password/, 'no admin password: refused')

  const own = renderChart(CHART, 'prod', { existingSecret: 'gatehouse-secrets' }).flatMap((r) => r.documents)
  t.notOk(own.some((d) => d.kind === 'Secret'), 'existingSecret: the chart makes no Secret')
  const refs = own.flatMap((d) => d.kind === 'Deployment' || d.kind === 'Job' ? d.spec.template.spec.containers[0].env : [])
    .filter((e: any) => e.valueFrom).map((e: any) => e.valueFrom.secretKeyRef.name)
  t.same([...new Set(refs)], ['gatehouse-secrets'], 'and every reference names the given one')

  const fixed = renderChart(CHART, 'prod', {
    ...VALUES,
    autoscaling: { enabled: false },
    replicaCount: 3,
    podDisruptionBudget: { enabled: false },
    adminBootstrap: { enabled: false },
    redisUrl: 'redis://cache:6379',
    image: { tag: '1.2.3' }
  }).flatMap((r) => r.documents)
  t.same(fixed.map((d) => d.kind).sort(), ['ConfigMap', 'Deployment', 'Secret', 'Service'])
  const deployment = fixed.find((d) => d.kind === 'Deployment')!
  t.equal(deployment.spec.replicas, 3)
  const container = deployment.spec.template.spec.containers[0]
  t.equal(container.image, 'gatehouse:1.2.3')
  t.ok(container.env.some((e: any) => e.name === 'REDIS_URL' && e.value === 'redis://cache:6379'))
  t.same(Object.keys(fixed.find((d) => d.kind === 'Secret')!.stringData), ['DATABASE_URL'])
})

let helm: string | undefined
try { helm = execFileSync('helm', ['version', '--short'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() } catch {}
const noHelm = helm === undefined && 'helm is not on PATH (it is in neither Debian\'s packages nor the npm registry): only the subset renderer above'

t.test('Helm chart: the real helm, where it is installed', { skip: noHelm }, async (t) => {
  const set = ['--set', `databaseUrl=${VALUES.databaseUrl}`, '--set', `adminBootstrap.password=${VALUES.adminBootstrap.password}`]
  execFileSync('helm', ['lint', '--strict', CHART, ...set], { encoding: 'utf8' })
  const out = execFileSync('helm', ['template', 'prod', CHART, ...set], { encoding: 'utf8' })
  const real = parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean)
  const ours = renderChart(CHART, 'prod', VALUES).flatMap((r) => r.documents)
  t.same(real.map((d: any) => `${d.kind}/${d.metadata.name}`).sort(), ours.map((d) => `${d.kind}/${d.metadata.name}`).sort(), `${helm}: the same objects`)
  t.same(real.find((d: any) => d.kind === 'Deployment'), ours.find((d) => d.kind === 'Deployment'), 'the same Deployment')
})

t.test('the subset renderer refuses what it does not know', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-chart-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  execFileSync('mkdir', ['-p', join(dir, 'templates')])
  const write = (path: string, text: string) => execFileSync('tee', [join(dir, path)], { input: text })
  write('Chart.yaml', 'apiVersion: v2\nname: x\nversion: 0.1.0\nappVersion: "1"\n')
  write('values.yaml', 'list: [a, b]\nname: n\n')
  write('templates/a.yaml', '{{- range .Values.list }}\nx: {{ . }}\n{{- end }}\n')
  t.throws(() => renderChart(dir, 'r'), /outside the subset/)
  write('templates/a.yaml', 'x: {{ .Values.name | upper }}\n')
  t.throws(() => renderChart(dir, 'r'), /outside the subset: upper/)
  write('templates/a.yaml', 'a:\n  {{- printf "%s-%s" .Release.Name .Values.name | nindent 2 }}\nb: {{ .Values.missing | default "d" | quote }}\n')
  t.same(renderChart(dir, 'r')[0]!.documents, [{ a: 'r-n', b: 'd' }])
  t.ok(existsSync(join(dir, 'templates', 'a.yaml')))
})
