import type { Config } from '../config.js'
import { isLoopback } from '../http/listen-address.js'

/**
 * Settings that are allowed but unsafe in most deployments: each gives one log line when the server starts (once,
 * from the primary with WORKERS), saying what to set instead.
 */
export function startupWarnings (config: Pick<Config, 'trustProxy' | 'metricsToken' | 'host'>): string[] {
  const warnings: string[] = []
  if (config.trustProxy === true) {
    warnings.push('TRUST_PROXY=true trusts every X-Forwarded-For hop: any client can name its own address, and every per-address ' +
      'limit (failed sign-ins, upstream starts) and caller X-Request-Id is then the client\'s choice. Set the number of proxies ' +
      '(TRUST_PROXY=1) or their addresses (TRUST_PROXY=10.0.0.0/8) instead')
  }
  if (config.metricsToken === undefined && !isLoopback(config.host)) {
    warnings.push(`GET /metrics is open to anyone who can reach HOST=${config.host} (it names clients and shows load): set METRICS_TOKEN, ` +
      'or keep /metrics off the public path at the proxy')
  }
  return warnings
}
